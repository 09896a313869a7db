/**
 * Per-person data keys for crypto-shredding. Each person has one KEK (`@fluxel/crypto`
 * `SubjectKeys`), stored in `portal_person_keys` sealed under the portal keyring. Personal data
 * sealed with {@link sealPersonal} opens only while that key exists; erasure destroys it
 * ({@link shredPerson}), so every copy of such a value — live rows and backups alike — becomes
 * unreadable without finding or rewriting it.
 */
import {
  CryptoError,
  fromText,
  inspect,
  openText,
  type StoredSubjectKey,
  type SubjectKeyStore,
  SubjectKeys,
  sealText,
} from '@fluxel/crypto';
import type { Context } from '../../server/context.ts';
import { destroyPersonKey, insertPersonKey, personKeyOf } from './store.ts';

const PREFIX = 'person:';

/** `portal_person_keys` as a `SubjectKeyStore`: a destroyed key keeps a tombstone row. */
class SqlPersonKeyStore implements SubjectKeyStore {
  constructor(private readonly ctx: Context) {}

  async get(subject: string): Promise<StoredSubjectKey | undefined> {
    const row = await personKeyOf(this.ctx.db, subject);
    if (!row) return undefined;
    if (row.material === null) return { state: 'destroyed', destroyedAt: row.destroyedAt };
    return { state: 'active', material: new Uint8Array(Buffer.from(row.material, 'base64url')) };
  }

  async create(subject: string, material: Uint8Array): Promise<void> {
    const created = await insertPersonKey(
      this.ctx.db,
      subject,
      Buffer.from(material).toString('base64url'),
      this.ctx.now(),
    );
    if (!created)
      throw new CryptoError('ERR_CRYPTO_INVALID_ARGUMENT', 'the person already has a key');
  }

  async destroy(subject: string): Promise<void> {
    await destroyPersonKey(this.ctx.db, subject, this.ctx.now());
  }
}

/**
 * A fresh helper per call: no key material outlives the operation in memory, so a key
 * destroyed by another portal instance is never used from a stale cache.
 */
function subjectKeys(ctx: Context): SubjectKeys {
  return new SubjectKeys({
    store: new SqlPersonKeyStore(ctx),
    protect: ctx.keyring,
    prefix: PREFIX,
  });
}

async function personKeyring(ctx: Context, userId: string, create: boolean) {
  try {
    return await subjectKeys(ctx).keyring(userId, { create });
  } catch (error) {
    // Two requests creating the same person's key at once: the loser reads the winner's.
    if (create && CryptoError.isInstance(error) && error.code === 'ERR_CRYPTO_INVALID_ARGUMENT')
      return subjectKeys(ctx).keyring(userId);
    throw error;
  }
}

/** Seals personal data of `userId` under the person's key (created on first use). */
export async function sealPersonal(
  ctx: Context,
  userId: string,
  field: string,
  value: string,
): Promise<string> {
  const keyring = await personKeyring(ctx, userId, true);
  return sealText(value, { keyring, context: { user: userId, field } });
}

/**
 * Opens a value sealed by {@link sealPersonal}. Values sealed earlier under the portal keyring
 * (before the person key existed, e.g. TOTP seeds) still open with it. After erasure this
 * throws `CryptoError` `ERR_CRYPTO_KEY_DESTROYED`.
 */
export async function openPersonal(
  ctx: Context,
  userId: string,
  field: string,
  text: string,
): Promise<string> {
  const underPerson = inspect(fromText(text)).kekIds.some((id) => id.startsWith(PREFIX));
  const keyring = underPerson ? await personKeyring(ctx, userId, false) : ctx.keyring;
  return openText(text, { keyring, context: { user: userId, field } });
}

/** Like {@link openPersonal}, but `undefined` where the key was destroyed (or the value broken). */
export async function tryOpenPersonal(
  ctx: Context,
  userId: string,
  field: string,
  text: string | null | undefined,
): Promise<string | undefined> {
  if (text == null) return undefined;
  try {
    return await openPersonal(ctx, userId, field, text);
  } catch {
    return undefined;
  }
}

/** Crypto-shreds a person: the key material is deleted for good (a tombstone stays). */
export async function shredPerson(ctx: Context, userId: string): Promise<void> {
  await subjectKeys(ctx).destroy(userId);
}
