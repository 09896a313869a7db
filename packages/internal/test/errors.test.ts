import { describe, expect, it, vi } from 'vitest';
import { brandErrorClass, FluxelError, isFluxelError } from '../src/errors.ts';

class DemoError extends FluxelError<'ERR_DEMO_A' | 'ERR_DEMO_B'> {
  override readonly name = 'DemoError';
  readonly package = '@fluxel/demo';
}
const isDemoError = brandErrorClass(DemoError, '@fluxel/demo/error');

describe('FluxelError', () => {
  it('carries code, message, name, package and cause', () => {
    const cause = new Error('root');
    const error = new DemoError('ERR_DEMO_A', 'went wrong', { cause });
    expect(error.code).toBe('ERR_DEMO_A');
    expect(error.message).toBe('went wrong');
    expect(error.name).toBe('DemoError');
    expect(error.package).toBe('@fluxel/demo');
    expect(error.cause).toBe(cause);
    expect(error).toBeInstanceOf(Error);
    expect(String(error.stack)).toContain('DemoError');
  });

  it('has no cause property when none was given', () => {
    expect('cause' in new DemoError('ERR_DEMO_B', 'x')).toBe(false);
  });

  it('keeps an explicit undefined cause', () => {
    const error = new DemoError('ERR_DEMO_B', 'x', { cause: undefined });
    expect('cause' in error).toBe(true);
  });

  it('is recognised by the guards', () => {
    const error = new DemoError('ERR_DEMO_A', 'x');
    expect(isFluxelError(error)).toBe(true);
    expect(isDemoError(error)).toBe(true);
  });

  it('rejects look-alikes and primitives', () => {
    const lookAlike = Object.assign(new Error('x'), { code: 'ERR_DEMO_A' });
    for (const value of [lookAlike, null, undefined, 'ERR_DEMO_A', 42, {}]) {
      expect(isFluxelError(value)).toBe(false);
      expect(isDemoError(value)).toBe(false);
    }
  });

  it('brands are package-specific', () => {
    class OtherError extends FluxelError<'ERR_OTHER'> {
      readonly package = '@fluxel/other';
    }
    const isOther = brandErrorClass(OtherError, '@fluxel/other/error');
    expect(isOther(new DemoError('ERR_DEMO_A', 'x'))).toBe(false);
    expect(isDemoError(new OtherError('ERR_OTHER', 'x'))).toBe(false);
    expect(isFluxelError(new OtherError('ERR_OTHER', 'x'))).toBe(true);
  });

  it('recognises errors from a second copy of the module (where instanceof fails)', async () => {
    vi.resetModules();
    const copyUrl = `${new URL('../src/errors.ts', import.meta.url).href}?copy`;
    const copy: typeof import('../src/errors.ts') = await import(/* @vite-ignore */ copyUrl);
    expect(copy.FluxelError).not.toBe(FluxelError);
    class CopyDemoError extends copy.FluxelError<'ERR_DEMO_A'> {
      readonly package = '@fluxel/demo';
    }
    copy.brandErrorClass(CopyDemoError, '@fluxel/demo/error');
    const fromCopy = new CopyDemoError('ERR_DEMO_A', 'x');
    expect(fromCopy instanceof FluxelError).toBe(false);
    expect(isFluxelError(fromCopy)).toBe(true);
    expect(isDemoError(fromCopy)).toBe(true);
  });
});
