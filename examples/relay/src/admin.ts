/**
 * The admin gRPC API: `LicenseAdmin` from `@fluxel/license/admin` (Create, Lock, Unlock,
 * Rebind, Get, List) over the relay's authority, on its own port, over TLS with the relay's
 * certificate and TLS policy (optionally mutual TLS: `clientCa`). Callers present
 * `authorization: Bearer <token>` metadata; the token is compared in constant time. Every call — allowed, failed or refused — goes to the audit log.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AuditEventInput } from '@fluxel/audit';
import {
  type AdminAuthority,
  type AdminCallEvent,
  createLicenseAdminHandlers,
  type UnaryCall,
} from '@fluxel/license/admin';
import { licenseAdminService } from '@fluxel-example/kit/admin-service';
import { type DevTls, TLS_SERVER_POLICY } from '@fluxel-example/kit/tls';
import * as grpc from '@grpc/grpc-js';

export interface AdminApiOptions {
  /** Bearer token admin callers present (at least 32 characters). */
  readonly token: string;
  /** Address to bind; default the relay's `host` (`127.0.0.1`). */
  readonly host?: string;
  /** Port on `host`; default 0 (any free port). */
  readonly port?: number;
  /** Name recorded as the actor of calls made with the token. Default `admin-token`. */
  readonly actor?: string;
  /**
   * PEM of the CA whose client certificates are accepted (mutual TLS). When set, a caller
   * without a certificate signed by this CA is refused in the TLS handshake, before any gRPC;
   * the bearer token is still required. Without it any TLS client may connect and only the
   * token authenticates.
   */
  readonly clientCa?: string;
}

/**
 * Server credentials built from Node TLS options: `ServerCredentials.createSsl` takes no
 * cipher list or minimum version, so the relay's {@link TLS_SERVER_POLICY} would not apply.
 * grpc-js passes these options to `http2.createSecureServer` as they are.
 */
class PolicyServerCredentials extends grpc.ServerCredentials {
  _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}

/** The admin server's TLS: the relay's certificate and policy, and mutual TLS with `clientCa`. */
export function adminServerCredentials(
  tls: Pick<DevTls, 'cert' | 'key'>,
  clientCa?: string,
): grpc.ServerCredentials {
  return new PolicyServerCredentials(
    clientCa ? { requestCert: true, rejectUnauthorized: true } : { requestCert: false },
    { cert: tls.cert, key: tls.key, ...TLS_SERVER_POLICY, ...(clientCa ? { ca: clientCa } : {}) },
  );
}

export interface AdminServer {
  readonly port: number;
  /** Waits for calls in flight, then stops. */
  close(): Promise<void>;
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** True when `presented` is `Bearer <expected>`; constant time in the token's content. */
export function bearerMatches(expected: string, presented: unknown): boolean {
  if (typeof presented !== 'string') return false;
  const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(presented);
  // Hashing both sides first makes the comparison independent of where they differ and of
  // the presented token's length.
  const ok = timingSafeEqual(digest(match?.[1] ?? ''), digest(expected));
  return ok && match !== null;
}

function peerIp(peer: string | undefined): string | undefined {
  if (!peer) return undefined;
  const text = peer.replace(/^ipv[46]:/, '');
  const ip = text.startsWith('[') ? text.slice(1, text.indexOf(']')) : text.replace(/:\d+$/, '');
  return ip.length > 0 && ip.length <= 64 ? ip : undefined;
}

/** `host:port` for grpc-js; an IPv6 literal goes in brackets. */
export function grpcAddress(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Starts the admin gRPC server. */
export async function startAdminServer(
  authority: AdminAuthority,
  tls: DevTls,
  options: AdminApiOptions,
  record: (event: AuditEventInput) => Promise<void>,
): Promise<AdminServer> {
  if (options.token.length < 32) throw new Error('the admin token must be at least 32 characters');
  const actorName = options.actor ?? 'admin-token';
  const onCall = (event: AdminCallEvent) => {
    const ip = peerIp(event.peer);
    return record({
      tenant: 'fluxel-admin',
      actor: { type: 'service', id: event.actor ?? 'anonymous', ...(ip ? { ip } : {}) },
      action: `admin.license.${event.method.toLowerCase()}`,
      outcome: event.outcome,
      ...(event.licenseId ? { target: { type: 'license', id: event.licenseId } } : {}),
      ...(event.outcome === 'denied' ? { reason: 'missing or wrong bearer token' } : {}),
      ...(event.code ? { data: { code: event.code } } : {}),
    });
  };
  const handlers = createLicenseAdminHandlers(authority, {
    authorize: (call: UnaryCall<unknown>) => {
      if (!bearerMatches(options.token, call.metadata.get('authorization')[0]))
        throw new Error('not authenticated');
      return actorName;
    },
    onCall,
  });
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 });
  server.addService(
    licenseAdminService().service,
    handlers as unknown as grpc.UntypedServiceImplementation,
  );
  const credentials = adminServerCredentials(tls, options.clientCa);
  const port = await new Promise<number>((done, fail) =>
    server.bindAsync(
      grpcAddress(options.host ?? '127.0.0.1', options.port ?? 0),
      credentials,
      (error, bound) => (error ? fail(error) : done(bound)),
    ),
  );
  let closing: Promise<void> | undefined;
  return {
    port,
    close: () => {
      closing ??= new Promise<void>((done) => {
        const force = setTimeout(() => server.forceShutdown(), 10_000);
        server.tryShutdown(() => {
          clearTimeout(force);
          done();
        });
      });
      return closing;
    },
  };
}
