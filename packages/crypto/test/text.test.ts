/**
 * sealText / openText: a string in, the text form out, and back — what the examples kept
 * writing by hand (TextEncoder + seal + toText, fromText + open + TextDecoder).
 */
import { describe, expect, it } from 'vitest';
import { DECRYPTION_FAILED_MESSAGE, openText, seal, sealText, toText } from '../src/index.ts';
import { rejectsWith, testKeyring } from './helpers.ts';

const keyring = testKeyring();
const context = { tenant: 't1', field: 'api-key' };

describe('sealText / openText', () => {
  it('round-trips any string, non-ASCII and empty included, through the text form', async () => {
    for (const text of ['s3cret', 'Grüße, Zoë 🙂', '', 'x'.repeat(10_000)]) {
      const sealed = await sealText(text, { keyring, context });
      expect(sealed).toMatch(/^flx1\.[A-Za-z0-9_-]+$/);
      expect(await openText(sealed, { keyring, context })).toBe(text);
    }
  });

  it('a wrong context or a changed character says only "decryption failed"', async () => {
    const sealed = await sealText('s3cret', { keyring, context });
    await rejectsWith(
      openText(sealed, { keyring, context: { ...context, field: 'other' } }),
      'ERR_CRYPTO_DECRYPTION_FAILED',
    );
    const flipped = `${sealed.slice(0, -2)}${sealed.at(-2) === 'A' ? 'B' : 'A'}${sealed.at(-1)}`;
    const error = await openText(flipped, { keyring, context }).catch((e: unknown) => e);
    expect((error as Error).message).toBe(DECRYPTION_FAILED_MESSAGE);
  });

  it('refuses what is not text, both ways, with what to use instead', async () => {
    await expect(sealText(new Uint8Array(2) as never, { keyring })).rejects.toMatchObject({
      code: 'ERR_CRYPTO_INVALID_ARGUMENT',
      message: expect.stringMatching(/use seal\(\) for bytes/),
    });
    const bytes = toText(await seal(new Uint8Array([0xff, 0xfe]), { keyring, context }));
    await expect(openText(bytes, { keyring, context })).rejects.toMatchObject({
      code: 'ERR_CRYPTO_INVALID_ARGUMENT',
      message: expect.stringMatching(/holds bytes, not text: use open\(\)/),
    });
  });
});
