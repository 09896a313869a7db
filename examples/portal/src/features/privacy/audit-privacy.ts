/**
 * The privacy transform for the portal's audit log (to be passed as `privacy` to
 * `AuditLog.open` in `src/server/audit.ts`): applied to every event before it is hashed, so
 * the chain covers only the transformed event and erasure never has to rewrite it.
 *
 * - `actor.ip` → a keyed pseudonym (`ps_…`, HMAC-SHA-256 under one key for all tenants, so the
 *   alert rules still group by IP across tenants, e.g. password spraying);
 * - `actor.userAgent` of a user → encrypted under that person's key (crypto-shredded with it);
 *   of anyone else (system, unknown accounts) → redacted.
 */

import { createHmac } from 'node:crypto';
import {
  type AuditEvent,
  createPrivacy,
  decryptEventWith,
  type FieldCipher,
  type PrivacyTransform,
} from '@fluxel/audit';
import type { Context } from '../../server/context.ts';
import { openPersonal, sealPersonal } from './person-keys.ts';

/** Ciphertexts carry the subject so `decrypt` finds the key: `<userId>.<sealed text>`. */
export function personFieldCipher(ctx: Context): FieldCipher {
  const field = (aad: Uint8Array) => `audit:${Buffer.from(aad).toString('base64url')}`;
  return {
    async encrypt(subject, plaintext, aad) {
      const sealed = await sealPersonal(
        ctx,
        subject,
        field(aad),
        Buffer.from(plaintext).toString('base64'),
      );
      return `${subject}.${sealed}`;
    },
    async decrypt(ciphertext, aad) {
      const dot = ciphertext.indexOf('.');
      const subject = ciphertext.slice(0, dot);
      try {
        const text = await openPersonal(ctx, subject, field(aad), ciphertext.slice(dot + 1));
        return new Uint8Array(Buffer.from(text, 'base64'));
      } catch (error) {
        if ((error as { code?: string }).code === 'ERR_CRYPTO_KEY_DESTROYED') return undefined;
        throw error;
      }
    },
  };
}

export function portalAuditPrivacy(ctx: Context, pseudonymKey: Uint8Array): PrivacyTransform {
  const key = createHmac('sha256', pseudonymKey).update('fluxel-portal audit ip v1').digest();
  const ip = createPrivacy({ pseudonymize: { paths: ['actor.ip'], key: () => key } });
  const forUser = createPrivacy({
    encrypt: {
      paths: ['actor.userAgent'],
      cipher: personFieldCipher(ctx),
      subject: (e) => e.actor.id,
    },
  });
  const forOthers = createPrivacy({ redact: ['actor.userAgent'] });
  return (event: AuditEvent) => {
    const pseudonymised = ip(event) as AuditEvent; // synchronous: no cipher
    return event.actor.type === 'user' && event.actor.id.startsWith('usr_')
      ? forUser(pseudonymised)
      : forOthers(pseudonymised);
  };
}

/** An event with the user agent decrypted (`[ERASED]` once the person key is destroyed). */
export function readableEvent(ctx: Context, event: AuditEvent): Promise<AuditEvent> {
  return decryptEventWith(event, personFieldCipher(ctx));
}
