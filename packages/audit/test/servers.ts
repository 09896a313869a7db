/**
 * Local peers that speak the sinks' wire protocols as documented, for the sink tests:
 * Splunk HEC (/services/collector/event + /services/collector/ack), Elasticsearch _bulk,
 * OTLP/HTTP JSON /v1/logs, and syslog over TCP/TLS with octet-counted framing (RFC 6587).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  createServer as createNetServer,
  isIP,
  type Server as NetServer,
  type Socket,
} from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Splits a body of concatenated JSON objects (with or without whitespace between them). */
export function splitConcatenatedJson(text: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === '}') {
      depth--;
      if (depth === 0) out.push(JSON.parse(text.slice(start, i + 1)));
    } else if (depth === 0 && !/\s/.test(c as string)) throw new Error(`junk at ${i}`);
  }
  if (depth !== 0) throw new Error('unterminated object');
  return out;
}

/** An HTTP peer that can be stopped and restarted on the same port. */
export class HttpPeer {
  server: Server;
  port = 0;
  /** When set, every request gets this status (e.g. 503) — an outage that still answers. */
  failWith: number | undefined;
  requests = 0;

  constructor(readonly handler: (req: IncomingMessage, res: ServerResponse, text: string) => void) {
    this.server = this.#make();
  }

  #make(): Server {
    return createServer(async (req, res) => {
      this.requests++;
      const text = await body(req);
      if (this.failWith) return json(res, this.failWith, { text: 'Server is busy', code: 9 });
      this.handler(req, res, text);
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  /** Stops listening and drops every connection (connection refused until `start`). */
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    this.server = this.#make();
  }
}

/** Splunk HTTP Event Collector. */
export function splunkPeer(token: string, options: { ack?: boolean } = {}) {
  const events: Record<string, unknown>[] = [];
  const pendingAcks = new Map<number, number>(); // ackId -> polls until true
  let nextAck = 0;
  const peer = new HttpPeer((req, res, text) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const auth = req.headers.authorization;
    if (!auth) return json(res, 401, { text: 'Token is required', code: 2 });
    if (auth !== `Splunk ${token}`) return json(res, 403, { text: 'Invalid token', code: 4 });
    const channel = req.headers['x-splunk-request-channel'];
    if (req.method === 'POST' && url.pathname === '/services/collector/event') {
      if (options.ack && !channel)
        return json(res, 400, { text: 'Data channel is missing', code: 10 });
      let parsed: unknown[];
      try {
        parsed = splitConcatenatedJson(text);
      } catch {
        return json(res, 400, { text: 'Invalid data format', code: 6 });
      }
      for (const [i, item] of parsed.entries()) {
        const e = item as Record<string, unknown>;
        if (e.event === undefined)
          return json(res, 400, {
            text: 'Event field is required',
            code: 12,
            'invalid-event-number': i,
          });
      }
      events.push(...(parsed as Record<string, unknown>[]));
      if (!options.ack) return json(res, 200, { text: 'Success', code: 0 });
      const ackId = nextAck++;
      pendingAcks.set(ackId, 1);
      return json(res, 200, { text: 'Success', code: 0, ackId });
    }
    if (req.method === 'POST' && url.pathname === '/services/collector/ack') {
      if (!options.ack) return json(res, 400, { text: 'ACK is disabled', code: 14 });
      if (url.searchParams.get('channel') !== channel && url.searchParams.get('channel') === null)
        return json(res, 400, { text: 'Data channel is missing', code: 10 });
      const { acks } = JSON.parse(text) as { acks: number[] };
      const out: Record<string, boolean> = {};
      for (const id of acks) {
        const left = pendingAcks.get(id);
        out[String(id)] = left === 0;
        if (left !== undefined && left > 0) pendingAcks.set(id, left - 1);
      }
      return json(res, 200, { acks: out });
    }
    return json(res, 404, { text: 'The requested URL was not found on this server.', code: 404 });
  });
  return { peer, events };
}

/** Elasticsearch `_bulk` (create actions; 409 for an existing _id). */
/** `source.ip` is mapped as type `ip` in the ECS templates: one IPv4 or IPv6 literal. */
function validIpField(doc: Record<string, unknown>): boolean {
  const ip = (doc.source as { ip?: unknown } | undefined)?.ip;
  return ip === undefined || (typeof ip === 'string' && isIP(ip) !== 0);
}

export function elasticPeer(
  options: { rejectFirst?: number; refuse?: (doc: Record<string, unknown>) => boolean } = {},
) {
  const docs = new Map<string, Record<string, unknown>>();
  const order: string[] = [];
  let toReject = options.rejectFirst ?? 0;
  const peer = new HttpPeer((req, res, text) => {
    if (req.method !== 'POST' || req.url !== '/_bulk')
      return json(res, 404, { error: 'no handler' });
    if (!String(req.headers['content-type']).startsWith('application/x-ndjson'))
      return json(res, 406, { error: 'Content-Type header is not supported', status: 406 });
    if (!text.endsWith('\n'))
      return json(res, 400, {
        error: {
          type: 'illegal_argument_exception',
          reason: 'The bulk request must be terminated by a newline [\\n]',
        },
        status: 400,
      });
    const lines = text.split('\n').slice(0, -1);
    const items: unknown[] = [];
    let errors = false;
    for (let i = 0; i < lines.length; i += 2) {
      const action = JSON.parse(lines[i] as string) as { create?: { _index: string; _id: string } };
      const doc = JSON.parse(lines[i + 1] as string) as Record<string, unknown>;
      const meta = action.create;
      if (!meta) return json(res, 400, { error: 'only create is used', status: 400 });
      if (toReject > 0) {
        toReject--;
        errors = true;
        items.push({
          create: {
            _index: meta._index,
            _id: meta._id,
            status: 429,
            error: { type: 'es_rejected_execution_exception', reason: 'rejected execution' },
          },
        });
      } else if (options.refuse?.(doc) || !validIpField(doc)) {
        // What Elasticsearch answers for a value its mapping cannot parse (a `long` field, or
        // an `ip` field given something that is no address).
        errors = true;
        const field = validIpField(doc) ? 'fluxel.data.n] of type [long' : 'source.ip] of type [ip';
        items.push({
          create: {
            _index: meta._index,
            _id: meta._id,
            status: 400,
            error: {
              type: 'document_parsing_exception',
              reason: `[1:80] failed to parse field [${field}] in document`,
            },
          },
        });
      } else if (docs.has(meta._id)) {
        errors = true;
        items.push({
          create: {
            _index: meta._index,
            _id: meta._id,
            status: 409,
            error: {
              type: 'version_conflict_engine_exception',
              reason: `[${meta._id}]: version conflict, document already exists`,
            },
          },
        });
      } else {
        docs.set(meta._id, doc);
        order.push(meta._id);
        items.push({
          create: {
            _index: meta._index,
            _id: meta._id,
            _version: 1,
            result: 'created',
            status: 201,
            _seq_no: order.length - 1,
            _primary_term: 1,
          },
        });
      }
    }
    return json(res, 200, { took: 1, errors, items });
  });
  return { peer, docs, order };
}

/** OTLP/HTTP JSON logs receiver. */
export function otlpPeer() {
  const records: Record<string, unknown>[] = [];
  const resources: unknown[] = [];
  const peer = new HttpPeer((req, res, text) => {
    if (req.method !== 'POST' || req.url !== '/v1/logs') return json(res, 404, {});
    if (req.headers['content-type'] !== 'application/json') return json(res, 415, {});
    const payload = JSON.parse(text) as {
      resourceLogs: {
        resource: unknown;
        scopeLogs: { scope: unknown; logRecords: Record<string, unknown>[] }[];
      }[];
    };
    for (const rl of payload.resourceLogs) {
      resources.push(rl.resource);
      for (const sl of rl.scopeLogs) records.push(...sl.logRecords);
    }
    return json(res, 200, {});
  });
  return { peer, records, resources };
}

/** A syslog receiver over TCP (or TLS) that parses octet-counted frames strictly. */
export class SyslogPeer {
  messages: string[] = [];
  port = 0;
  #server: NetServer;
  #sockets = new Set<Socket>();
  errors: string[] = [];

  constructor(readonly tls?: TlsOptions) {
    this.#server = this.#make();
  }

  #make(): NetServer {
    const onSocket = (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      let buf = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        for (;;) {
          const space = buf.indexOf(32);
          if (space < 0) break;
          const lenText = buf.subarray(0, space).toString('ascii');
          if (!/^[1-9]\d*$/.test(lenText)) {
            this.errors.push(`bad frame length ${JSON.stringify(lenText)}`);
            socket.destroy();
            return;
          }
          const len = Number(lenText);
          if (buf.length < space + 1 + len) break;
          this.messages.push(buf.subarray(space + 1, space + 1 + len).toString('utf8'));
          buf = buf.subarray(space + 1 + len);
        }
      });
      socket.on('error', () => {});
    };
    return this.tls ? createTlsServer(this.tls, onSocket) : createNetServer(onSocket);
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.#server.address() as { port: number }).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.#sockets) s.end();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server = this.#make();
  }
}

/** Polls until `check` is true (for peers that receive asynchronously). */
export async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
