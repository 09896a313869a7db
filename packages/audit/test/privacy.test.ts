import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type AuditEvent,
  AuditLog,
  createPrivacy,
  decryptEvent,
  decryptEventWith,
  ERASED,
  type FieldCipher,
  generateSigningKey,
  MemoryStore,
  MemorySubjectKeyStore,
  pseudonymize,
  REDACTED,
  type SubjectKeySnapshot,
  verifyLines,
} from '../src/index.ts';
import { loginEvent } from './helpers.ts';

const secret = new Uint8Array(32).fill(9);

describe('privacy before hashing', () => {
  it('redacts configured paths, including wildcards, before the event is hashed', async () => {
    const store = new MemoryStore();
    const log = await AuditLog.open({
      store,
      signingKey: generateSigningKey(),
      checkpointIntervalMs: 0,
      privacy: createPrivacy({ redact: ['data.password', 'data.*.token', 'actor.userAgent'] }),
    });
    await log.append(
      loginEvent(1, {
        data: { password: 'hunter2', oauth: { token: 't0k3n', scope: 'read' }, other: { x: 1 } },
      }),
    );
    await log.close();
    const line = store.records[1]?.line as string;
    expect(line).not.toContain('hunter2');
    expect(line).not.toContain('t0k3n');
    expect(line).not.toContain('Mozilla');
    expect(store.records[1]?.event?.data).toEqual({
      password: REDACTED,
      oauth: { token: REDACTED, scope: 'read' },
      other: { x: 1 },
    });
    expect(verifyLines(store.lines()).ok).toBe(true);
  });

  it('pseudonymises identifiers with a keyed HMAC per tenant: stable within, unlinkable across tenants', async () => {
    const store = new MemoryStore();
    const log = await AuditLog.open({
      store,
      signingKey: generateSigningKey(),
      checkpointIntervalMs: 0,
      privacy: createPrivacy({ pseudonymize: { paths: ['actor.id', 'actor.ip'], key: secret } }),
    });
    await log.append(
      loginEvent(1, {
        tenant: 'a',
        actor: { type: 'user', id: 'alice@example.com', ip: '192.0.2.1' },
      }),
    );
    await log.append(
      loginEvent(2, {
        tenant: 'a',
        actor: { type: 'user', id: 'alice@example.com', ip: '192.0.2.1' },
      }),
    );
    await log.append(
      loginEvent(3, {
        tenant: 'b',
        actor: { type: 'user', id: 'alice@example.com', ip: '192.0.2.1' },
      }),
    );
    await log.close();
    const [, one, two, three] = store.records.map((r) => r.event?.actor.id);
    expect(one).toMatch(/^ps_[A-Za-z0-9_-]{22}$/);
    expect(two).toBe(one);
    expect(three).not.toBe(one);
    expect(store.lines().join('\n')).not.toContain('alice@example.com');
    expect(() =>
      createPrivacy({ pseudonymize: { paths: ['actor.id'], key: new Uint8Array(8) } }),
    ).toThrow(expect.objectContaining({ code: 'ERR_AUDIT_INVALID_KEY' }));
    expect(pseudonymize(secret, 'x')).not.toBe(pseudonymize(new Uint8Array(32).fill(1), 'x'));
  });

  it('crypto-shredding: erasing the subject key erases the PII while the chain still verifies', async () => {
    let persisted: SubjectKeySnapshot | undefined;
    const keys = new MemorySubjectKeyStore({ onChange: (s) => (persisted = s) });
    const store = new MemoryStore();
    const signingKey = generateSigningKey();
    const log = await AuditLog.open({
      store,
      signingKey,
      checkpointIntervalMs: 0,
      privacy: createPrivacy({ encrypt: { paths: ['data.email', 'actor.name'], keys } }),
    });
    const ann = { type: 'user' as const, id: 'u-ann', name: 'Ann Example' };
    const bob = { type: 'user' as const, id: 'u-bob', name: 'Bob Example' };
    await log.append(
      loginEvent(1, { actor: ann, data: { email: 'ann@example.com', plan: 'pro' } }),
    );
    await log.append(loginEvent(2, { actor: bob, data: { email: 'bob@example.com' } }));
    const annEvent = store.records[1]?.event;
    expect(store.lines().join('\n')).not.toContain('ann@example.com');
    expect(decryptEvent(annEvent as never, keys)).toMatchObject({
      actor: { name: 'Ann Example' },
      data: { email: 'ann@example.com', plan: 'pro' },
    });

    // A restored store (from the persisted snapshot) decrypts too.
    const restored = new MemorySubjectKeyStore({ snapshot: persisted as SubjectKeySnapshot });
    expect(decryptEvent(annEvent as never, restored).data?.email).toBe('ann@example.com');

    expect(keys.erase('acme/u-ann')).toBe(true);
    expect(decryptEvent(annEvent as never, keys)).toMatchObject({
      actor: { name: ERASED },
      data: { email: ERASED, plan: 'pro' },
    });
    expect(decryptEvent(store.records[2]?.event as never, keys).data?.email).toBe(
      'bob@example.com',
    );
    // New events for an erased subject are refused rather than silently re-keyed.
    await expect(
      log.append(loginEvent(3, { actor: ann, data: { email: 'again@example.com' } })),
    ).rejects.toMatchObject({
      code: 'ERR_AUDIT_KEY_ERASED',
    });
    await log.close();
    expect(verifyLines(store.lines(), { publicKeys: [signingKey] }).findings).toEqual([]);
  });

  it('a ciphertext moved to another event does not decrypt', async () => {
    const keys = new MemorySubjectKeyStore();
    const privacy = createPrivacy({ encrypt: { paths: ['data.email'], keys } });
    const base = {
      ...loginEvent(1),
      id: 'e1',
      time: '2026-01-01T00:00:00.000Z',
      data: { email: 'a@example.com' },
    };
    const one = privacy(base as never) as AuditEvent;
    const two = privacy({ ...base, id: 'e2' } as never) as AuditEvent;
    const swapped = { ...two, data: { email: one.data?.email } };
    expect(() => decryptEvent(swapped, keys)).toThrow(
      expect.objectContaining({ code: 'ERR_AUDIT_DECRYPTION_FAILED' }),
    );
  });

  it('an asynchronous FieldCipher (KMS-like): events keep call order, close waits, erasure works', async () => {
    // A stand-in for a KMS-backed cipher (e.g. `@fluxel/crypto` subject keys): async, slow,
    // with per-subject keys that can be destroyed.
    const keys = new Map<string, Buffer>();
    const sleep = () => new Promise((r) => setTimeout(r, Math.floor(Math.random() * 5)));
    const cipher: FieldCipher = {
      async encrypt(subject, plaintext, aad) {
        await sleep();
        let key = keys.get(subject);
        if (!key) {
          key = randomBytes(32);
          keys.set(subject, key);
        }
        const iv = randomBytes(12);
        const c = createCipheriv('aes-256-gcm', key, iv).setAAD(aad);
        const ct = Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
        return `${subject}.${iv.toString('base64url')}.${ct.toString('base64url')}`;
      },
      async decrypt(text, aad) {
        await sleep();
        const [subject, iv, ct] = text.split('.') as [string, string, string];
        const key = keys.get(subject);
        if (!key) return undefined;
        const raw = Buffer.from(ct, 'base64url');
        const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url')).setAAD(aad);
        d.setAuthTag(raw.subarray(-16));
        return Buffer.concat([d.update(raw.subarray(0, -16)), d.final()]);
      },
    };
    const store = new MemoryStore();
    const signingKey = generateSigningKey();
    const log = await AuditLog.open({
      store,
      signingKey,
      checkpointEvery: 7,
      checkpointIntervalMs: 0,
      privacy: createPrivacy({
        encrypt: { paths: ['data.email'], cipher, subject: (e) => e.actor.id },
      }),
    });
    const receipts = Array.from({ length: 40 }, (_, i) =>
      log.append(
        loginEvent(i, {
          actor: { type: 'user', id: `u${i % 3}` },
          data: { email: `u${i % 3}@example.com`, i },
        }),
      ),
    );
    await log.close(); // waits for the encryptions still in flight
    const seqs = (await Promise.all(receipts)).map((r) => r.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const events = store.records.filter((r) => r.event).map((r) => r.event as AuditEvent);
    expect(events.map((e) => e.data?.i)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(store.lines().join('\n')).not.toContain('@example.com');
    expect((await decryptEventWith(events[4] as AuditEvent, cipher)).data?.email).toBe(
      'u1@example.com',
    );
    keys.delete('u1');
    expect((await decryptEventWith(events[4] as AuditEvent, cipher)).data?.email).toBe(ERASED);
    expect((await decryptEventWith(events[3] as AuditEvent, cipher)).data?.email).toBe(
      'u0@example.com',
    );
    expect(verifyLines(store.lines(), { publicKeys: [signingKey] }).findings).toEqual([]);
    expect(() => createPrivacy({ encrypt: { paths: ['data.email'] } })).toThrow(
      expect.objectContaining({ code: 'ERR_AUDIT_INVALID_ARGUMENT' }),
    );
  });
});
