/** The contract as an OpenAPI 3.1 document (JSON Schema 2020-12 from the zod schemas). */
import { z } from 'zod';
import { CONTRACT_VERSION, Problem, type RouteDefinition, relayContract } from './contract.js';

/** Options of {@link openApiDocument}. */
export interface OpenApiOptions {
  /** `info.version`. Default: the contract version. */
  readonly version?: string;
  /** Server URLs to list. */
  readonly servers?: readonly string[];
}

/** A JSON object (the OpenAPI document and its parts). */
export type Json = Record<string, unknown>;

function schema(type: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(type, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
  }) as Json;
  return rest;
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

/** Builds the OpenAPI 3.1 document of the relay contract. */
export function openApiDocument(options: OpenApiOptions = {}): Json {
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
        'A fresh DPoP proof (RFC 9449) signed by the device key, with `cdg` (SHA-256 of the body) when there is a body.',
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
      schemas: { Problem: schema(Problem, 'output') },
      responses: problemResponses,
      securitySchemes: {
        DeviceProof: {
          type: 'http',
          scheme: 'DPoP',
          description: 'A DPoP proof by the device key only (no access token).',
        },
        DeviceBound: {
          type: 'http',
          scheme: 'DPoP',
          description: '`Authorization: DPoP <access token>` plus a DPoP proof bound to it.',
        },
      },
    },
  };
}
