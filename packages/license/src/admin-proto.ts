/**
 * The LicenseAdmin service description, in two forms: the `.proto` file that ships with the
 * package (for any gRPC stack; {@link licenseAdminProtoUrl}), and the same description as a
 * protobuf.js JSON namespace ({@link licenseAdminDescriptor}), which needs no file system.
 * Nothing here runs when the module is imported: a runtime without `file:` module URLs
 * (workerd, a bundle) can import `@fluxel/license/admin`.
 */
import { LicenseError } from './errors.js';

/**
 * The fully qualified name of the service.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import * as protoLoader from '@grpc/proto-loader';
 * import { LICENSE_ADMIN_SERVICE, licenseAdminDescriptor } from '@fluxel/license/admin';
 *
 * const json = licenseAdminDescriptor() as Parameters<typeof protoLoader.fromJSON>[0];
 * const definition = protoLoader.fromJSON(json, { keepCase: true });
 * assert.ok(definition[LICENSE_ADMIN_SERVICE]); // 'fluxel.license.v1.LicenseAdmin'
 * ```
 */
export const LICENSE_ADMIN_SERVICE = 'fluxel.license.v1.LicenseAdmin';

/** One field: name, type, field number, and whether it is `repeated`. */
type Field = readonly [name: string, type: string, id: number, repeated?: 'repeated'];

const LICENSE_FIELDS: readonly Field[] = [
  ['id', 'string', 1],
  ['tenant', 'string', 2],
  ['product', 'string', 3],
  ['entitlements', 'string', 4, 'repeated'],
  ['status', 'string', 5],
  ['locked_reason', 'string', 6],
  ['device_jkt', 'string', 7],
  ['created_at', 'string', 8],
  ['activated_at', 'string', 9],
  ['expires_at', 'string', 10],
  ['last_seen_at', 'string', 11],
  ['device_host_name', 'string', 12],
  ['device_agent_version', 'string', 13],
  ['last_ip', 'string', 14],
];

// Exactly the messages of proto/license_admin.proto (a test compares the two).
const MESSAGES: Readonly<Record<string, readonly Field[]>> = {
  License: LICENSE_FIELDS,
  CreateRequest: [
    ['tenant', 'string', 1],
    ['product', 'string', 2],
    ['entitlements', 'string', 3, 'repeated'],
    ['expires_at', 'string', 4],
  ],
  CreateResponse: [
    ['license', 'License', 1],
    ['license_key', 'string', 2],
  ],
  LockRequest: [
    ['id', 'string', 1],
    ['reason', 'string', 2],
  ],
  UnlockRequest: [['id', 'string', 1]],
  RebindRequest: [['id', 'string', 1]],
  RebindResponse: [
    ['license', 'License', 1],
    ['rebind_code', 'string', 2],
    ['expires_at', 'string', 3],
  ],
  GetRequest: [['id', 'string', 1]],
  ListRequest: [
    ['tenant', 'string', 1],
    ['status', 'string', 2],
    ['page_size', 'int32', 3],
    ['page_token', 'string', 4],
  ],
  ListResponse: [
    ['licenses', 'License', 1, 'repeated'],
    ['next_page_token', 'string', 2],
  ],
};

const METHODS: Readonly<Record<string, readonly [request: string, response: string]>> = {
  Create: ['CreateRequest', 'CreateResponse'],
  Lock: ['LockRequest', 'License'],
  Unlock: ['UnlockRequest', 'License'],
  Rebind: ['RebindRequest', 'RebindResponse'],
  Get: ['GetRequest', 'License'],
  List: ['ListRequest', 'ListResponse'],
};

/**
 * A protobuf.js JSON namespace (what `@grpc/proto-loader`'s `fromJSON` reads).
 *
 * @example
 * ```ts
 * import { licenseAdminDescriptor, type ProtoNamespaceJson } from '@fluxel/license/admin';
 *
 * const json: ProtoNamespaceJson = licenseAdminDescriptor();
 * console.log(Object.keys(json.nested)); // ['fluxel']
 * ```
 */
export interface ProtoNamespaceJson {
  readonly nested: Record<string, unknown>;
}

/**
 * The LicenseAdmin service as a protobuf.js JSON namespace, field names as in the `.proto`
 * (snake_case): `protoLoader.fromJSON(licenseAdminDescriptor(), { keepCase: true })`. A new
 * object on every call.
 *
 * @example
 * ```ts
 * import * as protoLoader from '@grpc/proto-loader';
 * import { licenseAdminDescriptor } from '@fluxel/license/admin';
 * // proto-loader types its input as protobuf.js's INamespace
 * const json = licenseAdminDescriptor() as Parameters<typeof protoLoader.fromJSON>[0];
 * const definition = protoLoader.fromJSON(json, { keepCase: true });
 * console.log(Object.keys(definition)); // ['fluxel.license.v1.LicenseAdmin', 'fluxel.license.v1.License', …]
 * ```
 */
export function licenseAdminDescriptor(): ProtoNamespaceJson {
  const nested: Record<string, unknown> = {
    LicenseAdmin: {
      methods: Object.fromEntries(
        Object.entries(METHODS).map(([name, [requestType, responseType]]) => [
          name,
          { requestType, responseType },
        ]),
      ),
    },
  };
  for (const [name, fields] of Object.entries(MESSAGES)) {
    nested[name] = {
      fields: Object.fromEntries(
        fields.map(([field, type, id, rule]) => [field, { ...(rule ? { rule } : {}), type, id }]),
      ),
    };
  }
  return { nested: { fluxel: { nested: { license: { nested: { v1: { nested } } } } } } };
}

/**
 * Where the shipped `license_admin.proto` is: a URL next to the installed package (a `file:`
 * URL under Node.js, Bun and Deno). Also exported as the subpath
 * `@fluxel/license/license_admin.proto`. Throws `ERR_LICENSE_INVALID_ARGUMENT` where this
 * module has no URL to resolve against (a bundle, workerd): use
 * {@link licenseAdminDescriptor} there.
 *
 * @example
 * ```ts
 * import { fileURLToPath } from 'node:url';
 * import * as protoLoader from '@grpc/proto-loader';
 * import { licenseAdminProtoUrl } from '@fluxel/license/admin';
 * const definition = protoLoader.loadSync(fileURLToPath(licenseAdminProtoUrl()), { keepCase: true });
 * ```
 */
export function licenseAdminProtoUrl(): URL {
  try {
    return new URL('../proto/license_admin.proto', import.meta.url);
  } catch (cause) {
    throw new LicenseError(
      'ERR_LICENSE_INVALID_ARGUMENT',
      'this module has no URL to find license_admin.proto from (bundled, or a runtime without module URLs); use licenseAdminDescriptor() instead',
      { cause },
    );
  }
}
