import { describe, expect, it } from 'vitest';
import { AUDIT_ERROR_CODES, AuditError, isFluxelError } from '../src/index.ts';

describe('AuditError', () => {
  it('has a closed set of unique, well-formed codes', () => {
    expect(new Set(AUDIT_ERROR_CODES).size).toBe(AUDIT_ERROR_CODES.length);
    for (const code of AUDIT_ERROR_CODES) expect(code).toMatch(/^ERR_[A-Z0-9_]+$/);
  });

  it('carries code, name and package, and is recognised by both guards', () => {
    const error = new AuditError('ERR_AUDIT_INVALID_EVENT', 'message for people');
    expect(error).toMatchObject({
      code: 'ERR_AUDIT_INVALID_EVENT',
      name: 'AuditError',
      package: '@fluxel/audit',
    });
    expect(AuditError.isInstance(error)).toBe(true);
    expect(isFluxelError(error)).toBe(true);
    expect(
      AuditError.isInstance(Object.assign(new Error('x'), { code: 'ERR_AUDIT_INVALID_EVENT' })),
    ).toBe(false);
  });
});

describe('options are checked when the object is built', () => {
  it('regression: new FileStore() failed later with a raw path TypeError', async () => {
    const { FileStore } = await import('../src/node.ts');
    expect(() => new (FileStore as unknown as new () => unknown)()).toThrow(
      expect.objectContaining({
        code: 'ERR_AUDIT_INVALID_ARGUMENT',
        message: expect.stringMatching(/FileStore needs the directory/),
      }),
    );
    expect(() => new FileStore('/tmp/x', { segmentMaxBytes: 0 })).toThrow(
      /segmentMaxBytes must be a positive integer/,
    );
  });
});

describe('keys are checked where they are passed in', () => {
  it('regression: a JWK as signingKey read "signingKey is required"', async () => {
    const { AuditLog, MemoryStore, generateSigningKey, privateJwk, publicJwk } = await import(
      '../src/index.ts'
    );
    const key = generateSigningKey();
    await expect(
      AuditLog.open({ store: new MemoryStore(), signingKey: privateJwk(key) as never }),
    ).rejects.toMatchObject({
      code: 'ERR_AUDIT_INVALID_KEY',
      message:
        'signingKey is a JWK: pass signingKeyFromJwk(jwk) (or generateSigningKey() for a new key)',
    });
    await expect(AuditLog.open({ store: new MemoryStore() } as never)).rejects.toMatchObject({
      code: 'ERR_AUDIT_INVALID_KEY',
      message: expect.stringMatching(/^signingKey is required: a key from generateSigningKey\(\)/),
    });
    const { verifyPath } = await import('../src/node.ts');
    await expect(
      verifyPath('/nonexistent', { publicKeys: [publicJwk(key) as never] }),
    ).rejects.toMatchObject({
      code: 'ERR_AUDIT_INVALID_KEY',
      message: expect.stringMatching(/^publicKeys\[0\] is a JWK: pass verifyingKeyFromJwk\(jwk\)/),
    });
  });
});
