import { expect } from 'vitest';
import { Keyring, localKek } from '../src/index.ts';

/** A keyring with one local KEK of a fixed key. */
export function testKeyring(id = 'k1', fill = 7, wrapping?: 'aes-gcm' | 'aes-kw' | 'aes-kwp') {
  return new Keyring([
    localKek({ id, key: new Uint8Array(32).fill(fill), ...(wrapping ? { wrapping } : {}) }),
  ]);
}

/** Asserts a promise rejects with a CryptoError of `code`. */
export async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name: 'CryptoError', code });
}

/** Collects a byte stream. */
export async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  await each(stream, (part) => parts.push(part));
  return new Uint8Array(Buffer.concat(parts));
}

/** Calls `fn` on each chunk of a stream. */
export async function each(
  stream: ReadableStream<Uint8Array>,
  fn: (part: Uint8Array) => unknown,
): Promise<void> {
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    fn(value);
  }
}

/** A stream of the given chunks. */
export function streamOf(parts: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const part of parts) controller.enqueue(part);
      controller.close();
    },
  });
}

export const bytes = (text: string) => new TextEncoder().encode(text);
