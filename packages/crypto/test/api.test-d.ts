import { describe, expectTypeOf, it } from 'vitest';
import {
  type CryptoErrorCode,
  type EncryptionContext,
  type KekProvider,
  localKek,
  open,
  type SuiteName,
  seal,
  sealStream,
} from '../src/index.ts';

describe('public types', () => {
  it('seal and open take and give bytes, asynchronously', () => {
    expectTypeOf(seal).returns.toEqualTypeOf<Promise<Uint8Array>>();
    expectTypeOf(open).returns.toEqualTypeOf<Promise<Uint8Array>>();
    expectTypeOf(seal).parameter(0).toEqualTypeOf<Uint8Array>();
  });

  it('suites and error codes are closed unions', () => {
    expectTypeOf<SuiteName>().toEqualTypeOf<
      'aes-256-gcm' | 'xchacha20-poly1305' | 'aes-256-gcm-siv'
    >();
    expectTypeOf<'ERR_CRYPTO_DECRYPTION_FAILED'>().toMatchTypeOf<CryptoErrorCode>();
    expectTypeOf<'ERR_SOMETHING_ELSE'>().not.toMatchTypeOf<CryptoErrorCode>();
  });

  it('a context maps strings to strings', () => {
    expectTypeOf<{ tenant: string }>().toMatchTypeOf<EncryptionContext>();
    expectTypeOf<{ tenant: number }>().not.toMatchTypeOf<EncryptionContext>();
  });

  it('a local KEK is a KEK provider; streams transform bytes', () => {
    expectTypeOf(localKek).returns.toMatchTypeOf<KekProvider>();
    expectTypeOf(sealStream).returns.toEqualTypeOf<TransformStream<Uint8Array, Uint8Array>>();
  });
});
