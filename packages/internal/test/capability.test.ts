import { describe, expect, it } from 'vitest';
import { capabilityVerdicts, nativeCapability, runtimeName } from '../src/capability.ts';
import { probeEd25519, probeEs256, probeHmacSha256, probeSha256 } from '../src/native-probes.ts';
import type { NodeCrypto } from '../src/node-crypto.ts';
import { nodeCryptoLikeWorkerd, realNodeCrypto } from '../src/testing.ts';

const real = realNodeCrypto() as unknown as NodeCrypto;

describe('native capability probes', () => {
  it('pass on Node.js', () => {
    expect(probeEs256(real)).toBe(true);
    expect(probeEd25519(real)).toBe(true);
    expect(probeSha256(real)).toBe(true);
    expect(probeHmacSha256(real)).toBe(true);
  });

  it('fail for ES256 where sign throws a TypeError (workerd nodejs_compat), not for Ed25519', () => {
    const workerd = nodeCryptoLikeWorkerd().module as unknown as NodeCrypto;
    expect(() => probeEs256(workerd)).toThrow(TypeError);
    expect(nativeCapability(workerd, 'ES256', probeEs256)).toBeUndefined();
    expect(nativeCapability(workerd, 'EdDSA', probeEd25519)).toBe(workerd);
  });

  it('fail on a wrong answer, not only on a throw', () => {
    const wrong = {
      ...real,
      createHash: () => ({ update: () => ({ digest: () => new Uint8Array(32) }) }),
      verify: () => true, // accepts everything: the altered signature catches it
    } as unknown as NodeCrypto;
    expect(probeSha256(wrong)).toBe(false);
    expect(probeEs256(wrong)).toBe(false);
  });

  it('run once per module and capability, then answer from the cache', () => {
    const module = {};
    let runs = 0;
    const probe = () => {
      runs++;
      return runs === 1; // a second run would say false
    };
    expect(nativeCapability(module, 'x', probe)).toBe(module);
    expect(nativeCapability(module, 'x', probe)).toBe(module);
    expect(runs).toBe(1);
    expect(
      nativeCapability(module, 'y', () => {
        throw new TypeError('not here');
      }),
    ).toBeUndefined();
    expect(capabilityVerdicts(module)).toEqual({ x: true, y: false });
    // Another module is probed on its own.
    expect(nativeCapability({}, 'x', () => false)).toBeUndefined();
    expect(nativeCapability(undefined, 'x', probe)).toBeUndefined();
  });

  it('names the runtime for error messages', () => {
    expect(runtimeName()).toBe(`Node.js ${process.versions.node}`);
  });
});
