/**
 * A small in-repo ACME server for what Pebble 2.4 lacks: ACME profiles (`meta.profiles`, the
 * order `profile` field), ARI (RFC 9773 `renewalInfo`, order `replaces`), Retry-After on
 * pending objects (seconds and HTTP-date forms) and 429 rate limits. It checks every JWS
 * (signature, nonce, url, kid) like RFC 8555 §6 says, and issues real certificates for the
 * CSR with openssl.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCa } from './pebble-harness.ts';

export interface StandIn {
  readonly url: string;
  readonly directoryUrl: string;
  readonly seen: {
    profiles: (string | undefined)[];
    replaces: (string | undefined)[];
    ariQueries: string[];
  };
  /** Make the next `n` newOrder requests fail with 429 and this Retry-After. */
  rateLimit(n: number, retryAfter: string): void;
  /** Leave orders pending forever (for timeout tests). */
  stall(on: boolean): void;
  /** Reject every nonce as bad (badNonce). */
  rejectNonces(on: boolean): void;
  /** Hand out this http-01 token instead of a well-formed one. */
  badToken(token: string | undefined): void;
  readonly window: { start: string; end: string };
  close(): Promise<void>;
}

const b64json = (s: string) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));

export async function startStandIn(): Promise<StandIn> {
  const dir = mkdtempSync(join(tmpdir(), 'acme-lite-standin-'));
  const ca = makeCa(dir, ['standin.test'], 'Stand-in Root R1');
  const altDir = mkdtempSync(join(tmpdir(), 'acme-lite-standin-alt-'));
  const alt = makeCa(altDir, ['standin.test'], 'Stand-in Alternate Root X2');
  const nonces = new Set<string>();
  const accounts = new Map<string, JsonWebKey>();
  const orders = new Map<string, Record<string, unknown> & { polls: number; certPem?: string }>();
  let counter = 0;
  let limited = 0;
  let limitAfter = '';
  let stalled = false;
  let tokenOverride: string | undefined;
  let rejectAll = false;
  const seen = {
    profiles: [] as (string | undefined)[],
    replaces: [] as (string | undefined)[],
    ariQueries: [] as string[],
  };
  const window = {
    start: new Date(Date.now() + 5 * 86_400_000).toISOString(),
    end: new Date(Date.now() + 6 * 86_400_000).toISOString(),
  };
  let base = '';

  const send = (
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    const nonce = crypto.randomUUID().replace(/-/g, '');
    nonces.add(nonce);
    res.writeHead(status, {
      'replay-nonce': nonce,
      'content-type': status >= 400 ? 'application/problem+json' : 'application/json',
      ...headers,
    });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
  const problem = (
    res: ServerResponse,
    status: number,
    type: string,
    detail: string,
    headers = {},
  ) => send(res, status, { type: `urn:ietf:params:acme:error:${type}`, detail, status }, headers);

  async function verify(req: IncomingMessage, body: string) {
    const jws = JSON.parse(body) as { protected: string; payload: string; signature: string };
    const header = b64json(jws.protected) as {
      nonce: string;
      url: string;
      jwk?: JsonWebKey;
      kid?: string;
      alg: string;
    };
    if (!nonces.delete(header.nonce) || rejectAll)
      return { error: ['badNonce', 'unknown nonce'] as const };
    if (header.url !== `${base}${req.url}`)
      return { error: ['unauthorized', 'url mismatch'] as const };
    const jwk = header.jwk ?? (header.kid ? accounts.get(header.kid) : undefined);
    if (!jwk || (header.jwk && header.kid))
      return { error: ['malformed', 'need exactly one of jwk, kid'] as const };
    const key = await crypto.subtle.importKey(
      'jwk',
      jwk,
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['verify'],
    );
    const ok = await crypto.subtle.verify(
      { name: 'ECDSA', hash: 'SHA-256' },
      key,
      Buffer.from(jws.signature, 'base64url'),
      new TextEncoder().encode(`${jws.protected}.${jws.payload}`),
    );
    if (!ok) return { error: ['malformed', 'bad signature'] as const };
    return { header, jwk, payload: jws.payload ? b64json(jws.payload) : undefined };
  }

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    if (path === '/dir')
      return send(res, 200, {
        newNonce: `${base}/nonce`,
        newAccount: `${base}/acct`,
        newOrder: `${base}/order`,
        revokeCert: `${base}/revoke`,
        keyChange: `${base}/key-change`,
        renewalInfo: `${base}/renewal-info`,
        meta: { profiles: { classic: 'the 90-day one', shortlived: 'six days' } },
      });
    if (path === '/nonce') return send(res, req.method === 'HEAD' ? 200 : 204, '');
    if (path.startsWith('/renewal-info/')) {
      const id = path.slice('/renewal-info/'.length);
      seen.ariQueries.push(id);
      if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(id))
        return problem(res, 400, 'malformed', 'bad certID');
      return send(
        res,
        200,
        { suggestedWindow: window, explanationURL: 'https://standin.test/why' },
        { 'retry-after': '21600' },
      );
    }
    if (req.method !== 'POST') return problem(res, 405, 'malformed', 'POST only');
    let body = '';
    for await (const chunk of req) body += chunk;
    const checked = await verify(req, body);
    if ('error' in checked && checked.error)
      return problem(res, 400, checked.error[0], checked.error[1]);
    const { payload } = checked as {
      payload: Record<string, unknown> | undefined;
      jwk: JsonWebKey;
    };
    if (path === '/acct') {
      const url = `${base}/acct/${++counter}`;
      accounts.set(url, (checked as { jwk: JsonWebKey }).jwk);
      return send(res, 201, { status: 'valid' }, { location: url });
    }
    if (path === '/order') {
      if (limited > 0) {
        limited--;
        return problem(res, 429, 'rateLimited', 'too many new orders', {
          'retry-after': limitAfter,
        });
      }
      const profile = payload?.profile as string | undefined;
      if (profile && !['classic', 'shortlived'].includes(profile))
        return problem(res, 400, 'invalidProfile', profile);
      seen.profiles.push(profile);
      seen.replaces.push(payload?.replaces as string | undefined);
      const id = String(++counter);
      const order = {
        status: 'pending',
        identifiers: payload?.identifiers,
        authorizations: [`${base}/authz/${id}`],
        finalize: `${base}/finalize/${id}`,
        ...(profile ? { profile } : {}),
        polls: 0,
      };
      orders.set(id, order);
      const { polls: _p, ...view } = order;
      return send(res, 201, view, { location: `${base}/order/${id}` });
    }
    const [, kind, id = ''] = path.split('/');
    const order = orders.get(id);
    if (!order) return problem(res, 404, 'malformed', 'no such object');
    const identifier = (order.identifiers as { type: string; value: string }[])[0];
    const { polls: _p, certPem: _c, ...view } = order;
    if (kind === 'authz') {
      const status = order.status === 'pending' ? 'pending' : 'valid';
      return send(res, 200, {
        status,
        identifier,
        challenges: [
          {
            type: 'http-01',
            url: `${base}/chall/${id}`,
            token: tokenOverride ?? `token-${id}-abcdefghijklmnop`,
            status,
          },
        ],
      });
    }
    if (kind === 'chall') {
      order.status = 'validating';
      return send(res, 200, {
        type: 'http-01',
        status: 'processing',
        url: `${base}/chall/${id}`,
        token: `token-${id}-abcdefghijklmnop`,
      });
    }
    if (kind === 'order') {
      order.polls++;
      if (order.status === 'validating') {
        if (stalled) return send(res, 200, { ...view, status: 'pending' }, { 'retry-after': '1' });
        // First poll: still pending, with an HTTP-date Retry-After 1–2 s ahead.
        if (order.polls === 1)
          return send(
            res,
            200,
            { ...view, status: 'pending' },
            { 'retry-after': new Date(Date.now() + 2000).toUTCString() },
          );
        order.status = 'ready';
      } else if (order.status === 'processing') {
        order.status = 'valid';
        order.certificate = `${base}/cert/${id}`;
      }
      const { polls: _q, certPem: _d, ...now } = order;
      return send(res, 200, now);
    }
    if (kind === 'finalize') {
      if (order.status !== 'ready')
        return problem(res, 403, 'orderNotReady', `order is ${order.status}`);
      const csrDer = Buffer.from(String(payload?.csr), 'base64url');
      const csrPath = join(dir, `${id}.csr`);
      writeFileSync(csrPath, csrDer);
      execFileSync(
        'openssl',
        [
          'x509',
          '-req',
          '-inform',
          'DER',
          '-in',
          csrPath,
          '-CA',
          ca.caPath,
          '-CAkey',
          ca.caKeyPath,
          '-CAcreateserial',
          '-copy_extensions',
          'copyall',
          '-days',
          '7',
          '-out',
          join(dir, `${id}.pem`),
        ],
        { stdio: 'pipe' },
      );
      order.certPem = readFileSync(join(dir, `${id}.pem`), 'utf8');
      order.status = 'processing';
      const { polls: _q, certPem: _d, ...now } = order;
      // Processing: come back in one second (delta-seconds form).
      return send(res, 200, now, { 'retry-after': '1' });
    }
    if (kind === 'cert') {
      const isAlt = path.endsWith('/alt');
      const pem = `${order.certPem}${isAlt ? alt.caPem : ca.caPem}`;
      res.writeHead(200, {
        'content-type': 'application/pem-certificate-chain',
        'replay-nonce': (() => {
          const n = crypto.randomUUID();
          nonces.add(n);
          return n;
        })(),
        ...(isAlt
          ? {}
          : { link: `<${base}/cert/${id}/alt>;rel="alternate", <${base}/dir>;rel="index"` }),
      });
      return res.end(pem);
    }
    return problem(res, 404, 'malformed', 'unknown endpoint');
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error) => problem(res, 500, 'serverInternal', String(error)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  base = `http://127.0.0.1:${port}`;
  return {
    url: base,
    directoryUrl: `${base}/dir`,
    seen,
    window,
    rateLimit(n, retryAfter) {
      limited = n;
      limitAfter = retryAfter;
    },
    stall(on) {
      stalled = on;
    },
    rejectNonces(on) {
      rejectAll = on;
    },
    badToken(token) {
      tokenOverride = token;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
