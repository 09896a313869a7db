/**
 * The send use case: forward one operation of an agent to the third party at once, exactly
 * once per idempotency key, keeping nothing but the key's record. Claims the key in the
 * {@link SendLedger} (reading the connection's sealed credentials in the same statement),
 * opens the credentials through the {@link Vault}, calls the {@link Connector}, records the
 * outcome and audits it. Answers an outcome; the route (`routes/agent-api.ts`) turns it into
 * HTTP. No SQL and no HTTP here.
 */
import type { AuditEventInput } from '@fluxel/audit';
import { bodyDigest, bodyHash, sameBody } from './body-hash.ts';
import type { Connector, ConnectorResult, JsonResult } from './connector.ts';
import type { SendLedger } from './send-ledger.ts';
import type { Owner, StoredCredentials, Vault } from './vault.ts';

/** One `send` of an agent, already checked against the contract. */
export interface ForwardRequest {
  readonly owner: Owner;
  readonly connection: string;
  readonly operation: string;
  readonly payload: unknown;
  readonly idempotencyKey: string;
  /** The request body exactly as sent (its keyed hash tells a retry from a reused key). */
  readonly body: Uint8Array;
  /**
   * The body's SHA-256 (base64url) when already known — the DPoP proof's checked digest
   * (`VerifiedProof.bodyDigest`) — so the body is hashed once per request.
   */
  readonly bodyDigest?: string | undefined;
  /** Who sent it and under which request id, for the audit log. */
  readonly actor: AuditEventInput['actor'];
  readonly requestId: string;
}

/** What became of a send. */
export type ForwardOutcome =
  /** The third party accepted it (now, or before: `replayed`). */
  | {
      readonly kind: 'delivered';
      readonly upstreamStatus: number;
      readonly result?: JsonResult;
      readonly deliveredAt: number;
      readonly replayed: boolean;
    }
  /** The third party refused it for good (now or before). */
  | { readonly kind: 'rejected'; readonly upstreamStatus: number }
  /** The connector does not know the operation or its payload; nothing was sent. */
  | { readonly kind: 'unsupported'; readonly reason: string }
  /** The third party is unavailable; nothing was executed, the key is free again. */
  | { readonly kind: 'unavailable'; readonly retryAfter: number; readonly upstreamStatus?: number }
  /**
   * The third party may have executed it (a timeout or lost connection after the request was
   * written): the key stays pending until its lease runs out (`retryAfter`, seconds); the
   * retry after it forwards again with the same `Idempotency-Key`.
   */
  | { readonly kind: 'unknown'; readonly retryAfter: number; readonly upstreamStatus?: number }
  /** The key was used before with another body or connection. */
  | { readonly kind: 'conflict' }
  /** A send with this key is in flight (its lease has not run out). */
  | { readonly kind: 'in-progress' }
  /** The key's record vanished between claim and read (released meanwhile): try again. */
  | { readonly kind: 'retry' }
  /** No credentials are stored for the connection. */
  | { readonly kind: 'no-credentials' };

export interface ForwarderDeps {
  readonly ledger: SendLedger;
  readonly vault: Vault;
  readonly connector: Connector;
  /** Key of the body fingerprints (`body-hash.ts`). */
  readonly bodyHashKey: Uint8Array;
  readonly clock: () => number;
  readonly record: (event: AuditEventInput) => Promise<void>;
}

export class Forwarder {
  readonly #deps: ForwarderDeps;

  constructor(deps: ForwarderDeps) {
    this.#deps = deps;
  }

  /** The third party's name (`upstream` in problems). */
  get upstream(): string {
    return this.#deps.connector.name;
  }

  async send(request: ForwardRequest): Promise<ForwardOutcome> {
    const { ledger, vault, connector, bodyHashKey, clock, record } = this.#deps;
    const { owner, connection, operation, idempotencyKey: key, body } = request;
    // Keyed (HMAC), so the idempotency table does not confirm guesses of a body.
    const digest = request.bodyDigest ?? bodyDigest(body);
    const hash = bodyHash(bodyHashKey, digest);
    const now = clock();
    const audited = (
      outcome: 'success' | 'failure' | 'denied',
      data: Record<string, unknown>,
      reason?: string,
    ) =>
      record({
        tenant: owner.tenant,
        actor: request.actor,
        action: 'relay.send',
        target: { type: 'connection', id: connection },
        outcome,
        requestId: request.requestId,
        ...(reason ? { reason } : {}),
        data: { license: owner.licenseId, operation, idempotencyKey: key, ...data },
      });

    // Claim the key (a pending record) and read the connection's sealed credentials in one
    // statement, batched with the claims of concurrent sends.
    const claimed = await ledger.claim({
      licenseId: owner.licenseId,
      key,
      connection,
      operation,
      hash,
      now,
    });
    if (!claimed.inserted) {
      const seen = claimed.existing;
      if (!seen) return { kind: 'retry' };
      if (!sameBody(bodyHashKey, seen.bodyHash, body, digest) || seen.connection !== connection) {
        await audited('denied', {}, 'idempotency key reused with another request');
        return { kind: 'conflict' };
      }
      if (seen.state === 'delivered')
        return {
          kind: 'delivered',
          upstreamStatus: seen.upstreamStatus,
          deliveredAt: seen.completedAt,
          replayed: true,
        };
      if (seen.state === 'rejected')
        return { kind: 'rejected', upstreamStatus: seen.upstreamStatus };
      // pending: in flight elsewhere, or its attempt died; take it over after the lease.
      if (!(await ledger.takeOver(owner.licenseId, key, seen, now))) return { kind: 'in-progress' };
    }
    // Frees the key unless a retry took the record over meanwhile (this attempt outlived the
    // lease): the claim and a take-over both stamp the record with `now`.
    const release = () => ledger.release(owner.licenseId, key, now);
    // The outcome on record (batched with other sends' outcomes); it carries the send's
    // fingerprint, so it stands even if the pending record vanished meanwhile.
    const complete = (state: 'delivered' | 'rejected', status: number, at: number) =>
      ledger.complete(
        { licenseId: owner.licenseId, key, connection, operation, hash, state, status, at },
        now,
      );
    let credentials: StoredCredentials | undefined;
    try {
      credentials = await vault.openRow(owner, connection, claimed.credentials);
    } catch (error) {
      await release();
      throw error;
    }
    if (!credentials) {
      await release();
      await audited('failure', {}, 'no credentials');
      return { kind: 'no-credentials' };
    }
    // A connector that throws may have sent the request: its outcome is unknown.
    const result: ConnectorResult = await connector
      .send({ operation, payload: request.payload, credentials, idempotencyKey: key })
      .catch((): ConnectorResult => ({ kind: 'unknown', reason: 'connector failed' }));
    if (result.kind === 'delivered') {
      const deliveredAt = clock();
      // Audited first, then recorded, both before the answer. In this order a relay that dies in between leaves the key pending: the send
      // is forwarded again after the lease (same Idempotency-Key) and audited then. The
      // other order (or both at once) could leave a delivery on record that no audit event
      // shows, and the retry would be a replay that audits nothing.
      await audited('success', { upstreamStatus: result.upstreamStatus });
      await complete('delivered', result.upstreamStatus, deliveredAt);
      return {
        kind: 'delivered',
        upstreamStatus: result.upstreamStatus,
        ...(result.result !== undefined ? { result: result.result } : {}),
        deliveredAt,
        replayed: false,
      };
    }
    if (result.kind === 'rejected') {
      // Audited before it is recorded, as a delivery is (above).
      await audited('failure', { upstreamStatus: result.upstreamStatus }, 'upstream rejected');
      await complete('rejected', result.upstreamStatus, clock());
      return { kind: 'rejected', upstreamStatus: result.upstreamStatus };
    }
    if (result.kind === 'unknown') {
      // Not released: a retry within the lease is answered in-progress, the one after it
      // takes the record over and forwards again with the same Idempotency-Key.
      const status = result.upstreamStatus;
      await audited(
        'failure',
        { upstreamStatus: status ?? null, cause: result.reason },
        'upstream outcome unknown',
      );
      return {
        kind: 'unknown',
        retryAfter: Math.max(1, Math.ceil((now + ledger.pendingLeaseMs - clock()) / 1000)),
        ...(status !== undefined ? { upstreamStatus: status } : {}),
      };
    }
    // Not executed, for certain: the key is free again.
    await release();
    if (result.kind === 'unsupported') {
      await audited('failure', {}, result.reason);
      return { kind: 'unsupported', reason: result.reason };
    }
    await audited(
      'failure',
      { upstreamStatus: result.upstreamStatus ?? null },
      'upstream unavailable',
    );
    return {
      kind: 'unavailable',
      retryAfter: result.retryAfter ?? 30,
      ...(result.upstreamStatus !== undefined ? { upstreamStatus: result.upstreamStatus } : {}),
    };
  }
}
