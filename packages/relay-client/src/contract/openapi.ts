/** The contract as an OpenAPI 3.1 document (JSON Schema 2020-12 from the zod schemas). */
import { z } from 'zod';
import { type RouteDefinition, relayContract } from './routes.js';
import { CONTRACT_VERSION, Problem } from './schemas.js';

/**
 * Options of {@link openApiDocument}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { openApiDocument, type OpenApiOptions } from '@fluxel/relay-client/contract';
 *
 * const options: OpenApiOptions = { version: '1.2.3' };
 * assert.equal((openApiDocument(options).info as { version: string }).version, '1.2.3');
 * ```
 */
export interface OpenApiOptions {
  /** `info.version`. Default: the contract version. */
  readonly version?: string;
  /** Server URLs to list. */
  readonly servers?: readonly string[];
}

/**
 * A JSON object (the OpenAPI document and its parts).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type Json, openApiDocument } from '@fluxel/relay-client/contract';
 *
 * const doc: Json = openApiDocument();
 * assert.equal(typeof doc.components, 'object');
 * ```
 */
export type Json = Record<string, unknown>;

/**
 * Shared definitions of the document (`components/schemas`). A generated schema's own `$defs`
 * (zod names them `__schema0`, … for recursive types such as a JSON value) would resolve
 * against the document root when the schema sits inside an operation, where there is no
 * `$defs`: they are lifted here, one per distinct definition, and every `$ref` rewritten.
 */
class SharedSchemas {
  readonly schemas: Record<string, Json> = {};
  readonly #byContent = new Map<string, string>();

  add(name: string, definition: Json): string {
    const key = JSON.stringify(definition);
    const known = this.#byContent.get(key);
    if (known) return known;
    let unique = name;
    for (let n = 2; this.schemas[unique]; n++) unique = `${name}${n}`;
    this.schemas[unique] = definition;
    this.#byContent.set(key, unique);
    return unique;
  }

  /** The JSON Schema of `type`, its `$defs` lifted into the shared schemas. */
  schema(type: z.ZodType, io: 'input' | 'output'): Json {
    const {
      $schema: _ignored,
      $defs,
      ...rest
    } = z.toJSONSchema(type, {
      target: 'draft-2020-12',
      io,
      unrepresentable: 'any',
    }) as Json & { $defs?: Record<string, Json> };
    if (!$defs) return rest;
    const renamed = new Map<string, string>();
    // A definition may refer to another (or itself): name them all first, then rewrite.
    for (const name of Object.keys($defs))
      renamed.set(name, name.startsWith('__schema') ? `Schema${renamed.size}` : name);
    const rewrite = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(rewrite);
      if (typeof value !== 'object' || value === null) return value;
      const out: Json = {};
      for (const [k, v] of Object.entries(value)) {
        const local = k === '$ref' && typeof v === 'string' && /^#\/\$defs\/(.+)$/.exec(v);
        out[k] = local ? `#/components/schemas/${renamed.get(local[1] as string)}` : rewrite(v);
      }
      return out;
    };
    for (const [name, definition] of Object.entries($defs)) {
      // The same type may read differently as a request (input) and an answer (output).
      const base = renamed.get(name) as string;
      const lifted = this.add(
        io === 'input' && this.schemas[base] ? `${base}Input` : base,
        rewrite(definition) as Json,
      );
      renamed.set(name, lifted);
    }
    return rewrite(rest) as Json;
  }
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  400: 'The request does not match the contract',
  401: 'No valid device proof or token (see WWW-Authenticate and DPoP-Nonce)',
  403: 'Refused: license locked, expired, not activated, or activation failed',
  404: 'No such connection',
  409: 'Idempotency key reused with a different request',
  413: 'Body too large',
  415: 'Not application/json',
  422: 'The third party refused the operation',
  429: 'Rate limited (see Retry-After)',
  500: 'Relay failure',
  502: 'The third party answered with an error',
  503: 'The third party (or the relay) is unavailable: retry later (see Retry-After)',
};

/**
 * The one rule beyond RFC 9449, stated where clients look for it: a standard DPoP client must
 * add this claim to POST and PUT, or the relay refuses the request. It is the relay's DPoP
 * verifier (`createDpopVerifier` of `@fluxel/license`, `requireBodyDigest` on by default).
 */
const BODY_DIGEST_RULE =
  'Beyond RFC 9449 (body digest): a request with a non-empty body (every POST and PUT here) must carry the claim `cdg` in its DPoP proof, the base64url (no padding) SHA-256 of the exact body bytes sent, so that a proof cannot be replayed with another body. A `cdg` in the proof of a request without a body must be the digest of zero bytes (`47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU`). A missing or different `cdg` is refused with 401 and the problem code `ERR_DPOP_BODY_MISMATCH`. Proof algorithms: ES256 or EdDSA (`alg` "EdDSA").';

/**
 * The same rule as data (`x-body-digest` on each security scheme), for tools that add the
 * claim: which claim, over what, how it is encoded, and when it is required.
 */
const BODY_DIGEST: Json = {
  claim: 'cdg',
  algorithm: 'SHA-256',
  encoding: 'base64url, no padding (RFC 7515 §2)',
  input: 'the exact request body bytes as sent',
  required: 'when the request body is not empty',
  emptyBody: '47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU',
  problemCode: 'ERR_DPOP_BODY_MISMATCH',
  status: 401,
};

/**
 * Builds the OpenAPI 3.1 document of the relay contract.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { openApiDocument } from '@fluxel/relay-client/contract';
 *
 * const doc = openApiDocument({ servers: ['https://relay.example.com'] }) as { openapi: string; paths: Record<string, unknown> };
 * assert.equal(doc.openapi, '3.1.0');
 * assert.ok('/v1/send-batch' in doc.paths);
 * ```
 */
export function openApiDocument(options: OpenApiOptions = {}): Json {
  const shared = new SharedSchemas();
  const schema = (type: z.ZodType, io: 'input' | 'output') => shared.schema(type, io);
  const paths: Record<string, Json> = {};
  for (const route of Object.values(relayContract) as RouteDefinition[]) {
    const parameters: Json[] = [];
    for (const [location, object] of [
      ['path', route.params],
      ['query', route.query],
    ] as const) {
      if (!object) continue;
      const shape = schema(object, 'input') as {
        properties?: Record<string, Json>;
        required?: string[];
      };
      for (const [name, property] of Object.entries(shape.properties ?? {})) {
        parameters.push({
          name,
          in: location,
          required: location === 'path' || (shape.required ?? []).includes(name),
          schema: property,
        });
      }
    }
    if (route.idempotencyKey) {
      parameters.push({
        name: 'Idempotency-Key',
        in: 'header',
        required: true,
        description:
          'Minted once per message (UUIDv7) and kept across retries; the operation runs at most once per key.',
        schema: { type: 'string', format: 'uuid' },
      });
    }
    parameters.push({
      name: 'DPoP',
      in: 'header',
      required: true,
      description:
        'A fresh DPoP proof (RFC 9449) signed by the device key. When the request has a non-empty body, the proof must also carry `cdg`: the base64url (no padding) SHA-256 of the exact body bytes sent; a proof without it, or with another digest, is refused with 401 (`ERR_DPOP_BODY_MISMATCH`).',
      schema: { type: 'string' },
    });
    const responses: Json = {};
    for (const [status, body] of Object.entries(route.responses)) {
      const code = Number(status);
      const description = STATUS_TEXT[code] ?? 'Response';
      if (body === null) responses[status] = { description };
      else if (body === Problem)
        responses[status] = { $ref: `#/components/responses/Problem${status}` };
      else
        responses[status] = {
          description,
          content: { 'application/json': { schema: schema(body, 'output') } },
        };
    }
    const operation: Json = {
      operationId: route.name,
      summary: route.summary,
      security: [{ [route.auth === 'device' ? 'DeviceBound' : 'DeviceProof']: [] }],
      parameters,
      responses,
      'x-idempotent': route.idempotent,
    };
    if (route.body) {
      operation.requestBody = {
        required: true,
        content: { 'application/json': { schema: schema(route.body, 'input') } },
      };
    }
    paths[route.path] = { ...(paths[route.path] ?? {}), [route.method.toLowerCase()]: operation };
  }
  const problemResponses: Json = {};
  for (const status of Object.keys(STATUS_TEXT)
    .map(Number)
    .filter((s) => s >= 400)) {
    problemResponses[`Problem${status}`] = {
      description: STATUS_TEXT[status],
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Fluxel relay',
      version: options.version ?? CONTRACT_VERSION,
      description:
        'The REST contract between the agent next to the ERP and the relay. Every request is signed by the device key (DPoP, RFC 9449); errors are RFC 9457 problem documents.',
    },
    servers: (options.servers ?? []).map((url) => ({ url })),
    paths,
    components: {
      schemas: { Problem: schema(Problem, 'output'), ...shared.schemas },
      responses: problemResponses,
      securitySchemes: {
        DeviceProof: {
          type: 'http',
          scheme: 'DPoP',
          description: `A DPoP proof by the device key only (no access token). ${BODY_DIGEST_RULE}`,
          'x-body-digest': BODY_DIGEST,
        },
        DeviceBound: {
          type: 'http',
          scheme: 'DPoP',
          description: `\`Authorization: DPoP <access token>\` plus a DPoP proof bound to it (\`ath\`). ${BODY_DIGEST_RULE}`,
          'x-body-digest': BODY_DIGEST,
        },
      },
    },
  };
}
