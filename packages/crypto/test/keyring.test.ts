import { describe, expect, it } from 'vitest';
import {
  CryptoError,
  inspect,
  type KekProvider,
  Keyring,
  localKek,
  open,
  rewrap,
  rewrapAll,
  seal,
} from '../src/index.ts';
import { bytes, rejectsWith } from './helpers.ts';

const kek = (id: string, fill: number) => localKek({ id, key: new Uint8Array(32).fill(fill) });
const oldKek = kek('old', 1);
const newKek = kek('new', 2);
const backup = kek('backup', 3);

describe('keyrings', () => {
  it('seals under the primary and opens with the KEK named in the header', async () => {
    const ring = new Keyring([oldKek, newKek], { primary: 'new' });
    const sealed = await seal(bytes('x'), { keyring: ring });
    expect(inspect(sealed).kekIds).toEqual(['new']);
    expect(await open(sealed, { keyring: new Keyring([newKek]) })).toEqual(bytes('x'));
    await rejectsWith(open(sealed, { keyring: new Keyring([oldKek]) }), 'ERR_CRYPTO_UNKNOWN_KEK');
  });

  it('multi-recipient: every recipient opens the message alone', async () => {
    const ring = new Keyring([newKek, backup], { recipients: ['new', 'backup'] });
    const sealed = await seal(bytes('x'), { keyring: ring });
    expect(inspect(sealed).kekIds).toEqual(['new', 'backup']);
    expect(await open(sealed, { keyring: new Keyring([newKek]) })).toEqual(bytes('x'));
    expect(await open(sealed, { keyring: new Keyring([backup]) })).toEqual(bytes('x'));
  });

  it('a KEK with the right id but the wrong key fails as decryption failed', async () => {
    const sealed = await seal(bytes('x'), { keyring: new Keyring([oldKek]) });
    await rejectsWith(
      open(sealed, { keyring: new Keyring([kek('old', 9)]) }),
      'ERR_CRYPTO_DECRYPTION_FAILED',
    );
  });

  it('rejects invalid keyrings', () => {
    expect(() => new Keyring([])).toThrow(CryptoError);
    expect(() => new Keyring([oldKek, kek('old', 5)])).toThrow(/duplicate/);
    expect(() => new Keyring([oldKek], { primary: 'nope' })).toThrow(CryptoError);
    expect(() => new Keyring([oldKek, newKek], { recipients: ['new'] })).toThrow(CryptoError);
  });

  it('KEK outages are ERR_CRYPTO_KEK_UNAVAILABLE, not decryption failures', async () => {
    const sealed = await seal(bytes('x'), { keyring: new Keyring([oldKek]) });
    const down: KekProvider = {
      id: 'old',
      wrap: () => Promise.reject(new Error('ECONNREFUSED')),
      unwrap: () => Promise.reject(new Error('ECONNREFUSED')),
    };
    await rejectsWith(open(sealed, { keyring: new Keyring([down]) }), 'ERR_CRYPTO_KEK_UNAVAILABLE');
    await rejectsWith(
      seal(bytes('x'), { keyring: new Keyring([down]) }),
      'ERR_CRYPTO_KEK_UNAVAILABLE',
    );
  });
});

describe('rotation', () => {
  it('rewrap changes only the wrapped-DEK section; the payload bytes are unchanged', async () => {
    const context = { tenant: 't' };
    const sealed = await seal(bytes('payload'), { keyring: new Keyring([oldKek]), context });
    const before = inspect(sealed);
    const rewrapped = await rewrap(sealed, new Keyring([newKek]), { from: new Keyring([oldKek]) });
    const after = inspect(rewrapped);
    expect(after.kekIds).toEqual(['new']);
    // The authenticated prefix (everything before the entry list) is byte-identical ...
    const prefixLength = before.prefixLength;
    expect(prefixLength).toBe(6 + 32 + 32 + 12);
    expect(
      Buffer.from(rewrapped.subarray(0, prefixLength)).equals(
        Buffer.from(sealed.subarray(0, prefixLength)),
      ),
    ).toBe(true);
    // ... and so is the body (ciphertext and tag).
    expect(
      Buffer.from(rewrapped.subarray(after.headerLength)).equals(
        Buffer.from(sealed.subarray(before.headerLength)),
      ),
    ).toBe(true);
    expect(await open(rewrapped, { keyring: new Keyring([newKek]), context })).toEqual(
      bytes('payload'),
    );
    await rejectsWith(
      open(rewrapped, { keyring: new Keyring([oldKek]), context }),
      'ERR_CRYPTO_UNKNOWN_KEK',
    );
  });

  it('rewrap refuses a ciphertext whose data key does not match its commitment', async () => {
    const a = await seal(bytes('a'), { keyring: new Keyring([oldKek]) });
    const b = await seal(bytes('b'), { keyring: new Keyring([oldKek]) });
    // Graft b's entry list onto a's prefix and body.
    const ia = inspect(a);
    const ib = inspect(b);
    const grafted = Buffer.concat([
      a.subarray(0, ia.prefixLength),
      b.subarray(ib.prefixLength, ib.headerLength),
      a.subarray(ia.headerLength),
    ]);
    await rejectsWith(
      rewrap(grafted, new Keyring([newKek]), { from: new Keyring([oldKek]) }),
      'ERR_CRYPTO_DECRYPTION_FAILED',
    );
    await rejectsWith(
      open(grafted, { keyring: new Keyring([oldKek]) }),
      'ERR_CRYPTO_DECRYPTION_FAILED',
    );
  });

  it('rewrapAll rewraps a table in batches, skips rows already done, reports failures', async () => {
    const from = new Keyring([oldKek]);
    const to = new Keyring([newKek]);
    const rows = [];
    for (let i = 0; i < 10; i++) {
      rows.push({ id: i, ciphertext: await seal(bytes(`row ${i}`), { keyring: from }) });
    }
    rows.push({ id: 10, ciphertext: await seal(bytes('done'), { keyring: to }) });
    rows.push({ id: 11, ciphertext: bytes('garbage') });
    const progress: number[] = [];
    const results = [];
    for await (const r of rewrapAll(rows, to, {
      from,
      concurrency: 4,
      onProgress: (n) => progress.push(n),
    })) {
      results.push(r);
    }
    expect(results.map((r) => r.id)).toEqual(rows.map((r) => r.id));
    expect(progress).toEqual([4, 8, 12]);
    expect(results.filter((r) => r.ok && r.changed)).toHaveLength(10);
    expect(results[10]).toMatchObject({ ok: true, changed: false });
    expect(results[11]).toMatchObject({ ok: false, error: { code: 'ERR_CRYPTO_MALFORMED' } });
    for (const r of results.slice(0, 10)) {
      if (!r.ok) throw new Error('unexpected failure');
      expect(await open(r.ciphertext, { keyring: to })).toEqual(bytes(`row ${r.id}`));
    }
  });
});
