/**
 * The relay's measured floor (issue 18), a server role of the relay-forward bench: the bare
 * Fastify + undici proxy plus only what a relay cannot leave out of a send — one ES256 check
 * of the request's DPoP proof signature, one AES-256-GCM open of sealed credentials and one
 * group-committed INSERT into PostgreSQL (one statement per cycle, every request waiting for
 * its cycle) — and nothing else: no token, nonce, replay, idempotency, audit or contract
 * checks. What the relay costs beyond this is what its design adds; what this costs beyond
 * the proxy is the price of the promise.
 */
import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  randomBytes,
  verify,
} from 'node:crypto';
import Fastify from 'fastify';
import pg from 'pg';
import { Agent, request } from 'undici';

export interface FloorOptions {
  readonly tls: { readonly key: string; readonly cert: string };
  readonly counterpartUrl: string;
  readonly apiKey: string;
  /** PostgreSQL; the floor's table lives in `schema`, dropped on close. */
  readonly databaseUrl: string;
  readonly schema: string;
}

export interface Floor {
  readonly url: string;
  close(): Promise<void>;
}

type KeyArg = { key: ReturnType<typeof createPublicKey>; dsaEncoding: 'ieee-p1363' };

export async function startFloor(options: FloorOptions): Promise<Floor> {
  const db = new pg.Pool({ connectionString: options.databaseUrl, max: 4 });
  const { schema } = options;
  await db.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  await db.query(
    `CREATE TABLE IF NOT EXISTS ${schema}.floor_sends (key text PRIMARY KEY, at bigint NOT NULL)`,
  );
  // Sealed credentials, opened on every request.
  const kek = randomBytes(32);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek, iv);
  const sealed = Buffer.concat([
    cipher.update(JSON.stringify({ apiKey: options.apiKey })),
    cipher.final(),
  ]);
  const tag = cipher.getAuthTag();
  const open = (): string => {
    const decipher = createDecipheriv('aes-256-gcm', kek, iv);
    decipher.setAuthTag(tag);
    return (
      JSON.parse(Buffer.concat([decipher.update(sealed), decipher.final()]).toString()) as {
        apiKey: string;
      }
    ).apiKey;
  };
  // Group commit: every key submitted while a write is in flight goes in the next statement.
  let queue: { key: string; done: () => void; fail: (e: unknown) => void }[] = [];
  let writing = false;
  const drain = async () => {
    writing = true;
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      try {
        await db.query(
          `INSERT INTO ${schema}.floor_sends (key, at) SELECT k, $2 FROM unnest($1::text[]) AS k ON CONFLICT DO NOTHING`,
          [batch.map((b) => b.key), Date.now()],
        );
        for (const b of batch) b.done();
      } catch (error) {
        for (const b of batch) b.fail(error);
      }
    }
    writing = false;
  };
  const insert = (key: string) =>
    new Promise<void>((done, fail) => {
      queue.push({ key, done, fail });
      if (!writing) {
        writing = true;
        setImmediate(() => void drain());
      }
    });
  const keys = new Map<string, KeyArg>();
  const upstream = new Agent({ keepAliveTimeout: 30_000 });
  const app = Fastify({ https: { key: options.tls.key, cert: options.tls.cert }, logger: false });
  app.post('/v1/connections/:connection/send', async (req, reply) => {
    const proof = String(req.headers.dpop ?? '');
    const dot = proof.lastIndexOf('.');
    const header = proof.slice(0, proof.indexOf('.'));
    let key = keys.get(header);
    if (!key) {
      const { jwk } = JSON.parse(Buffer.from(header, 'base64url').toString()) as {
        jwk: Record<string, string>;
      };
      key = { key: createPublicKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' };
      keys.set(header, key);
    }
    if (
      !verify(
        'sha256',
        Buffer.from(proof.slice(0, dot)),
        key,
        Buffer.from(proof.slice(dot + 1), 'base64url'),
      )
    )
      return reply.code(401).send({ error: 'bad proof' });
    const apiKey = open();
    const { payload } = req.body as { payload: { order: string; status: string } };
    const idempotencyKey = String(req.headers['idempotency-key']);
    await insert(idempotencyKey);
    const res = await request(
      `${options.counterpartUrl}/orders/${encodeURIComponent(payload.order)}/status`,
      {
        method: 'POST',
        dispatcher: upstream,
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${apiKey}`,
          'idempotency-key': idempotencyKey,
        },
        body: JSON.stringify({ status: payload.status }),
      },
    );
    const text = await res.body.text();
    return reply.code(res.statusCode).type('application/json').send(text);
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  return {
    url: `https://127.0.0.1:${port}`,
    async close() {
      await app.close();
      await upstream.close();
      await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
      await db.end();
    },
  };
}
