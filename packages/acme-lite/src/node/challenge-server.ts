/**
 * HTTP-01 on node:http: `challengeListener` to mount in your server, `startChallengeServer`
 * standalone on a port.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { AcmeError } from '../errors.js';
import { type ChallengeStore, MemoryChallengeStore, respondToChallenge } from '../http01.js';

/**
 * A node:http request listener (also what Express-style `(req, res, next)` code calls).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createServer } from 'node:http';
 * import type { AddressInfo } from 'node:net';
 * import { challengeListener, MemoryChallengeStore, type RequestListener } from '@fluxel/acme-lite/node';
 *
 * const app: RequestListener = (_req, res) => res.end('shop');
 * const server = createServer(challengeListener(new MemoryChallengeStore(), app)).listen(0, '127.0.0.1');
 * await new Promise((resolve) => server.once('listening', resolve));
 * try {
 *   const { port } = server.address() as AddressInfo;
 *   assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'shop');
 * } finally {
 *   server.close();
 * }
 * ```
 */
export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Wraps your request listener so that `/.well-known/acme-challenge/<token>` is answered from
 * `store` and everything else goes to `app` (404 when no app is given). Mount it on the port
 * the CA reaches (port 80 forwarded to your app's port is fine).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createServer } from 'node:http';
 * import type { AddressInfo } from 'node:net';
 * import { challengeListener, MemoryChallengeStore } from '@fluxel/acme-lite/node';
 *
 * const challenges = new MemoryChallengeStore();
 * const token = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA';
 * challenges.set(token, `${token}.thumbprint`);
 * // Your app's port (port 80 forwarded to it): ACME challenges first, then the app.
 * const server = createServer(challengeListener(challenges, (_req, res) => res.end('shop')));
 * await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
 * try {
 *   const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
 *   assert.equal(await (await fetch(`${base}/.well-known/acme-challenge/${token}`)).text(), `${token}.thumbprint`);
 *   assert.equal(await (await fetch(`${base}/cart`)).text(), 'shop');
 * } finally {
 *   server.close();
 * }
 * ```
 */
export function challengeListener(store: ChallengeStore, app?: RequestListener): RequestListener {
  return (req, res) => {
    const path = req.url ?? '/';
    if (!path.startsWith('/.well-known/acme-challenge/')) {
      if (app) app(req, res);
      else res.writeHead(404).end();
      return;
    }
    respondToChallenge(store, req.method ?? 'GET', path).then(
      (answer) => {
        if (!answer) return;
        res.writeHead(answer.status, answer.headers).end(answer.body);
      },
      () => res.writeHead(500).end(),
    );
  };
}

/**
 * A running standalone HTTP-01 listener.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type ChallengeServer, startChallengeServer } from '@fluxel/acme-lite/node';
 *
 * const responder: ChallengeServer = await startChallengeServer({ port: 0, host: '127.0.0.1' }); // 0: any free port
 * try {
 *   assert.ok(responder.port > 0);
 *   assert.equal(responder.server.listening, true);
 * } finally {
 *   await responder.close();
 * }
 * ```
 */
export interface ChallengeServer {
  readonly server: Server;
  readonly port: number;
  readonly store: ChallengeStore;
  close(): Promise<void>;
}

/**
 * Starts a small HTTP server that only answers HTTP-01 challenges.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { startChallengeServer } from '@fluxel/acme-lite/node';
 *
 * // Standalone on port 80 in production; any free port here.
 * const responder = await startChallengeServer({ port: 0, host: '127.0.0.1' });
 * try {
 *   const token = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA';
 *   await responder.store.set(token, `${token}.thumbprint`);
 *   const res = await fetch(`http://127.0.0.1:${responder.port}/.well-known/acme-challenge/${token}`);
 *   assert.equal(await res.text(), `${token}.thumbprint`);
 * } finally {
 *   await responder.close();
 * }
 * ```
 */
export async function startChallengeServer(
  options: { port?: number; host?: string; store?: ChallengeStore } = {},
): Promise<ChallengeServer> {
  const store = options.store ?? new MemoryChallengeStore();
  const server = createServer(challengeListener(store));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause) =>
      reject(
        new AcmeError('ERR_ACME_INVALID_ARGUMENT', `cannot listen on port ${options.port ?? 80}`, {
          cause,
        }),
      ),
    );
    server.listen(options.port ?? 80, options.host, () => resolve());
  });
  const address = server.address();
  return {
    server,
    store,
    port: typeof address === 'object' && address ? address.port : (options.port ?? 80),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
