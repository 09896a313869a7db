import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDpopSigner, generateKeyPair } from '@fluxel/license';
import { createDpopVerifier, MemoryReplayStore } from '@fluxel/license/server';
import { validate } from '@readme/openapi-parser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openApiDocument, relayContract, routePath } from '../src/contract.ts';

describe('OpenAPI', () => {
  it('the committed openapi.json is what the contract generates (run `pnpm --filter @fluxel/relay-client openapi`)', () => {
    const committed = JSON.parse(
      readFileSync(join(import.meta.dirname, '../openapi.json'), 'utf8'),
    );
    expect(committed).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
  });

  it('regression: the document did not validate ($ref "#/$defs/__schema0" resolved against the root); an independent validator accepts it', async () => {
    // @readme/openapi-parser: schema validation against the OpenAPI 3.1 meta-schema plus
    // resolution of every $ref — written by others, so it does not share our blind spots.
    const result = await validate(structuredClone(openApiDocument()) as never);
    expect(result.valid ? [] : result.errors).toEqual([]);
    expect(JSON.stringify(openApiDocument())).not.toContain('#/$defs/');
  });

  it('states the limits the relay enforces: 1–16 credential fields, JSON bounds, the body digest', () => {
    // biome-ignore lint/suspicious/noExplicitAny: walking a JSON document
    const doc = openApiDocument() as any;
    const fields =
      doc.paths['/v1/connections/{connection}/credentials'].put.requestBody.content[
        'application/json'
      ].schema.properties.fields;
    expect(fields).toMatchObject({ minProperties: 1, maxProperties: 16 });
    expect(doc.components.schemas.JsonValue.description).toMatch(/64 levels.*1 000 000 values/);
    for (const scheme of Object.values(doc.components.securitySchemes) as { description: string }[])
      expect(scheme.description).toMatch(
        /`cdg`.*base64url \(no padding\) SHA-256 of the exact body bytes/,
      );
  });

  it("the body-digest rule in the security schemes (x-body-digest) is the one the relay's DPoP verifier enforces", async () => {
    // biome-ignore lint/suspicious/noExplicitAny: walking a JSON document
    const doc = openApiDocument() as any;
    const schemes = Object.values(doc.components.securitySchemes) as {
      description: string;
      'x-body-digest': Record<string, unknown>;
    }[];
    for (const scheme of schemes) {
      expect(scheme['x-body-digest']).toMatchObject({
        claim: 'cdg',
        algorithm: 'SHA-256',
        problemCode: 'ERR_DPOP_BODY_MISMATCH',
        status: 401,
      });
      expect(scheme.description).toContain('ERR_DPOP_BODY_MISMATCH');
    }
    const rule = schemes[0]?.['x-body-digest'] as { emptyBody: string };
    const documented = (bytes: Uint8Array) =>
      createHash('sha256').update(bytes).digest('base64url');
    expect(rule.emptyBody).toBe(documented(new Uint8Array(0)));

    const signer = createDpopSigner((await generateKeyPair()).privateJwk);
    const verifier = createDpopVerifier({ replay: new MemoryReplayStore() });
    const url = 'https://relay.example/v1/send-batch';
    const body = new TextEncoder().encode('{"items":[]}');
    // What a client following the document sends: its cdg is the documented digest, accepted.
    const proof = await signer.proof({ method: 'POST', url, body });
    const claims = JSON.parse(Buffer.from(proof.split('.')[1] as string, 'base64url').toString());
    expect(claims.cdg).toBe(documented(body));
    await expect(verifier.verify({ method: 'POST', url, proof, body })).resolves.toBeDefined();
    // A standard DPoP client (no cdg) is refused with the documented code.
    const plain = await signer.proof({ method: 'POST', url });
    await expect(
      verifier.verify({ method: 'POST', url, proof: plain, body }),
    ).rejects.toMatchObject({
      code: 'ERR_DPOP_BODY_MISMATCH',
    });
    // No body: no cdg needed.
    const get = await signer.proof({ method: 'GET', url });
    await expect(verifier.verify({ method: 'GET', url, proof: get })).resolves.toBeDefined();
  });

  it('describes every route with its method, idempotency header and problem responses', () => {
    const doc = openApiDocument({ version: '1.0.0' }) as {
      openapi: string;
      // biome-ignore lint/suspicious/noExplicitAny: walking a JSON document
      paths: Record<string, Record<string, any>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    for (const route of Object.values(relayContract)) {
      const operation = doc.paths[route.path]?.[route.method.toLowerCase()];
      expect(operation?.operationId, route.name).toBe(route.name);
      const headers = operation.parameters
        .filter((p: { in: string }) => p.in === 'header')
        .map((p: { name: string }) => p.name);
      expect(headers.includes('Idempotency-Key')).toBe(route.idempotencyKey);
      expect(operation.responses['400'].$ref).toBe('#/components/responses/Problem400');
    }
    expect(
      doc.paths['/v1/connections/{connection}/send']?.post.requestBody.content['application/json']
        .schema.additionalProperties,
    ).toBe(false);
  });
});

const connection = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/);
const operation = fc.stringMatching(/^[a-z][a-z0-9]{0,8}\.[a-z][a-z0-9-]{0,8}$/);
const hasProto = (v: unknown): boolean =>
  typeof v === 'object' &&
  v !== null &&
  (Object.hasOwn(v, '__proto__') || Object.values(v).some(hasProto));
const json = fc.jsonValue().filter((v) => v !== undefined && !hasProto(v));

describe('contract schemas (properties)', () => {
  const send = relayContract.send;

  it('every well-formed send request is accepted, unchanged', () => {
    fc.assert(
      fc.property(connection, operation, json, (conn, op, payload) => {
        expect(send.params.safeParse({ connection: conn }).success).toBe(true);
        const parsed = send.body.safeParse({ operation: op, payload });
        expect(parsed.success).toBe(true);
        if (parsed.success) expect(parsed.data).toEqual({ operation: op, payload });
      }),
      { numRuns: 300 },
    );
  });

  it('an unknown field, a missing field or a wrong type is refused', () => {
    fc.assert(
      fc.property(
        operation,
        json,
        fc
          .string({ minLength: 1, maxLength: 10 })
          .filter((k) => k !== 'operation' && k !== 'payload'),
        (op, payload, extra) => {
          expect(send.body.safeParse({ operation: op, payload, [extra]: 1 }).success).toBe(false);
          expect(send.body.safeParse({ payload }).success).toBe(false);
          expect(send.body.safeParse({ operation: 42, payload }).success).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('regression: a payload with a "__proto__" key is refused, not silently changed', () => {
    const payload = JSON.parse('{"order":"A-1","nested":{"__proto__":{"admin":true}}}');
    const parsed = send.body.safeParse({ operation: 'order.status', payload });
    expect(parsed.success).toBe(false);
    if (!parsed.success) expect(parsed.error.issues[0]?.message).toMatch(/__proto__/);
    expect(
      send.body.safeParse({ operation: 'order.status', payload: JSON.parse('{"__proto__":""}') })
        .success,
    ).toBe(false);
  });

  it('connection ids that could escape the path are refused', () => {
    for (const bad of ['../etc', 'a/b', 'A', '', ' x', 'x'.repeat(64), '%2e%2e', 'shop_1']) {
      expect(relayContract.send.params.safeParse({ connection: bad }).success, bad).toBe(false);
    }
    expect(routePath(relayContract.send, { connection: 'shop-1' })).toBe(
      '/v1/connections/shop-1/send',
    );
  });

  it('pickup bounds: wait 0–30 s, limit 1–100, defaults filled', () => {
    const q = relayContract.pickup.query;
    expect(q.parse({})).toEqual({ wait: 0, limit: 20 });
    fc.assert(
      fc.property(
        fc.integer({ min: -100, max: 200 }),
        fc.integer({ min: -10, max: 300 }),
        (wait, limit) => {
          const ok = q.safeParse({ wait: String(wait), limit: String(limit) }).success;
          expect(ok).toBe(wait >= 0 && wait <= 30 && limit >= 1 && limit <= 100);
        },
      ),
    );
  });

  it('credentials: 1 to 16 named fields of 1 to 4096 characters', () => {
    const c = relayContract.putCredentials.body;
    expect(c.safeParse({ kind: 'api-key', fields: { apiKey: 'x' } }).success).toBe(true);
    expect(c.safeParse({ kind: 'api-key', fields: {} }).success).toBe(false);
    expect(c.safeParse({ kind: 'api-key', fields: { apiKey: '' } }).success).toBe(false);
    expect(c.safeParse({ kind: 'api-key', fields: { apiKey: 'x'.repeat(4097) } }).success).toBe(
      false,
    );
    expect(c.safeParse({ kind: 'password', fields: { apiKey: 'x' } }).success).toBe(false);
    const many = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`f${i}`, 'x']));
    expect(c.safeParse({ kind: 'basic', fields: many }).success).toBe(false);
  });
});
