/**
 * HTTP-01 on node:http: `challengeListener` to mount in your server, `startChallengeServer`
 * standalone on a port.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { AcmeError } from '../errors.js';
import { type ChallengeStore, MemoryChallengeStore, respondToChallenge } from '../http01.js';

/** A node:http request listener (also what Express-style `(req, res, next)` code calls). */
export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Wraps your request listener so that `/.well-known/acme-challenge/<token>` is answered from
 * `store` and everything else goes to `app` (404 when no app is given). Mount it on the port
 * the CA reaches (port 80 forwarded to your app's port is fine).
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

/** A running standalone HTTP-01 listener. */
export interface ChallengeServer {
  readonly server: Server;
  readonly port: number;
  readonly store: ChallengeStore;
  close(): Promise<void>;
}

/** Starts a small HTTP server that only answers HTTP-01 challenges. */
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
