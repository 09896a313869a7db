/**
 * A keyring: the KEKs a program holds. Seal wraps the data key under the recipients (the
 * primary by default, several for multi-recipient messages); open unwraps with the KEK named
 * in the header.
 */
import { CryptoError } from './errors.js';
import { checkKekId, type KekProvider } from './kek.js';

/**
 * Options of {@link Keyring}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateKey, inspect, Keyring, type KeyringOptions, localKek, seal } from '@fluxel/crypto';
 *
 * const current = localKek({ id: 'eu-2026', key: generateKey() });
 * const previous = localKek({ id: 'eu-2025', key: generateKey() });
 * const backup = localKek({ id: 'backup', key: generateKey() });
 * // New data keys are wrapped under the primary and the backup (each one opens alone);
 * // the previous KEK still opens older records.
 * const options: KeyringOptions = { primary: 'eu-2026', recipients: ['eu-2026', 'backup'] };
 * const keyring = new Keyring([current, previous, backup], options);
 * assert.deepEqual(inspect(await seal(Uint8Array.of(1), { keyring })).kekIds, ['eu-2026', 'backup']);
 * ```
 */
export interface KeyringOptions {
  /** Id of the KEK new messages are wrapped under. Default: the first KEK. */
  readonly primary?: string;
  /**
   * Ids of every KEK new messages are wrapped under (multi-recipient), the primary first.
   * Default: the primary alone.
   */
  readonly recipients?: readonly string[];
}

/**
 * Checks that a value is a keyring (duck-typed, so a keyring from another copy of the package
 * works); anything else is `ERR_CRYPTO_INVALID_ARGUMENT`.
 */
export function checkKeyring(keyring: unknown): Keyring {
  const k = keyring as Keyring | undefined;
  if (
    !k ||
    typeof k.get !== 'function' ||
    !Array.isArray(k.recipients) ||
    k.recipients.length === 0
  ) {
    throw new CryptoError('ERR_CRYPTO_INVALID_ARGUMENT', 'a Keyring is required');
  }
  return k;
}

/**
 * A set of KEKs with a primary. Immutable: build a new keyring to rotate.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateKey, Keyring, localKek, open, seal } from '@fluxel/crypto';
 *
 * const old = localKek({ id: 'local-2025', key: generateKey() });
 * const sealed = await seal(Uint8Array.of(1, 2), { keyring: new Keyring([old]) });
 * // Rotation: a new keyring whose primary is the new KEK, keeping the old one to open old records.
 * const keyring = new Keyring([localKek({ id: 'local-2026', key: generateKey() }), old]);
 * assert.equal(keyring.primary.id, 'local-2026');
 * assert.deepEqual(keyring.ids(), ['local-2026', 'local-2025']);
 * assert.deepEqual(await open(sealed, { keyring }), Uint8Array.of(1, 2));
 * ```
 */
export class Keyring {
  readonly #keks = new Map<string, KekProvider>();
  /** The KEK new messages are wrapped under. */
  readonly primary: KekProvider;
  /** The KEKs each new message is wrapped under, the primary first. */
  readonly recipients: readonly KekProvider[];

  /** Builds a keyring; duplicate or unknown ids are `ERR_CRYPTO_INVALID_ARGUMENT`. */
  constructor(keks: readonly KekProvider[], options: KeyringOptions = {}) {
    for (const kek of keks) {
      checkKekId(kek?.id);
      if (this.#keks.has(kek.id)) {
        throw new CryptoError('ERR_CRYPTO_INVALID_ARGUMENT', `duplicate KEK id ${kek.id}`);
      }
      this.#keks.set(kek.id, kek);
    }
    const primaryId = options.primary ?? keks[0]?.id;
    const primary = primaryId === undefined ? undefined : this.#keks.get(primaryId);
    if (!primary) {
      throw new CryptoError('ERR_CRYPTO_INVALID_ARGUMENT', 'a keyring needs a primary KEK');
    }
    this.primary = primary;
    const ids = options.recipients ?? [primary.id];
    if (ids[0] !== primary.id || new Set(ids).size !== ids.length) {
      throw new CryptoError(
        'ERR_CRYPTO_INVALID_ARGUMENT',
        'recipients must start with the primary and not repeat',
      );
    }
    this.recipients = ids.map((id) => {
      const kek = this.#keks.get(id);
      if (!kek) throw new CryptoError('ERR_CRYPTO_INVALID_ARGUMENT', `unknown recipient ${id}`);
      return kek;
    });
  }

  /** The KEK of an id, if held. */
  get(id: string): KekProvider | undefined {
    return this.#keks.get(id);
  }

  /** Ids of every KEK held. */
  ids(): string[] {
    return [...this.#keks.keys()];
  }
}
