/**
 * A local stand-in for AWS KMS that speaks its wire protocol (AWS JSON 1.1: POST /,
 * `X-Amz-Target: TrentService.<Operation>`, `Content-Type: application/x-amz-json-1.1`,
 * base64 blobs, errors as `{"__type": ..., "message": ...}` with status 400), for the
 * operations the adapter uses: Encrypt and Decrypt (and GenerateDataKey). It checks that every
 * request is SigV4-signed but not the signature itself.
 *
 * Test helper only (`@fluxel/internal/kms-standin`), shared by `@fluxel/crypto`'s adapter tests
 * and the example apps' KEK tests, so there is one copy of the wire protocol. Not AWS: no key
 * policies, grants, regions or real signatures are checked.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Key {
  material: Buffer;
  state: 'Enabled' | 'Disabled';
}

export interface KmsStandIn {
  readonly endpoint: string;
  /** The operations answered so far (`Encrypt`, `Decrypt`, …), in order; clear it to count anew. */
  readonly calls: string[];
  createKey(): string;
  /**
   * An outage while `true`: every connection is reset before an answer (as an unreachable
   * endpoint looks to the SDK); nothing is counted in `calls`.
   */
  outage(on: boolean): void;
  disable(arn: string): void;
  delete(arn: string): void;
  close(): Promise<void>;
}

const contextAad = (context: Record<string, string> | undefined) =>
  Buffer.from(JSON.stringify(Object.entries(context ?? {}).sort()));

export async function startKmsStandIn(): Promise<KmsStandIn> {
  const keys = new Map<string, Key>();
  const calls: string[] = [];
  let down = false;

  const encrypt = (arn: string, key: Key, plaintext: Buffer, context?: Record<string, string>) => {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.material, nonce);
    cipher.setAAD(contextAad(context));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    const id = Buffer.from(arn);
    return Buffer.concat([Buffer.of(id.length), id, nonce, body]);
  };

  const handlers: Record<string, (body: Record<string, unknown>) => [number, object]> = {
    Encrypt(body) {
      const arn = body.KeyId as string;
      const key = keys.get(arn);
      if (!key)
        return [400, { __type: 'NotFoundException', message: `Key '${arn}' does not exist` }];
      if (key.state !== 'Enabled')
        return [400, { __type: 'DisabledException', message: 'disabled' }];
      const plaintext = Buffer.from(body.Plaintext as string, 'base64');
      const blob = encrypt(arn, key, plaintext, body.EncryptionContext as Record<string, string>);
      return [
        200,
        {
          CiphertextBlob: blob.toString('base64'),
          KeyId: arn,
          EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        },
      ];
    },
    GenerateDataKey(body) {
      const arn = body.KeyId as string;
      const key = keys.get(arn);
      if (!key)
        return [400, { __type: 'NotFoundException', message: `Key '${arn}' does not exist` }];
      const plaintext = randomBytes((body.NumberOfBytes as number | undefined) ?? 32);
      const blob = encrypt(arn, key, plaintext, body.EncryptionContext as Record<string, string>);
      return [
        200,
        {
          CiphertextBlob: blob.toString('base64'),
          Plaintext: plaintext.toString('base64'),
          KeyId: arn,
        },
      ];
    },
    Decrypt(body) {
      const blob = Buffer.from(body.CiphertextBlob as string, 'base64');
      const invalid: [number, object] = [
        400,
        { __type: 'InvalidCiphertextException', message: '' },
      ];
      if (blob.length < 1 + 12 + 16) return invalid;
      const arn = blob.subarray(1, 1 + (blob[0] as number)).toString();
      if (body.KeyId !== undefined && body.KeyId !== arn) {
        return [400, { __type: 'IncorrectKeyException', message: 'wrong key' }];
      }
      const key = keys.get(arn);
      if (!key)
        return [400, { __type: 'NotFoundException', message: `Key '${arn}' does not exist` }];
      if (key.state !== 'Enabled')
        return [400, { __type: 'DisabledException', message: 'disabled' }];
      const rest = blob.subarray(1 + (blob[0] as number));
      try {
        const decipher = createDecipheriv('aes-256-gcm', key.material, rest.subarray(0, 12));
        decipher.setAAD(contextAad(body.EncryptionContext as Record<string, string>));
        decipher.setAuthTag(rest.subarray(rest.length - 16));
        const plaintext = Buffer.concat([
          decipher.update(rest.subarray(12, rest.length - 16)),
          decipher.final(),
        ]);
        return [
          200,
          {
            KeyId: arn,
            Plaintext: plaintext.toString('base64'),
            EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
          },
        ];
      } catch {
        return invalid;
      }
    },
  };

  const server: Server = createServer((req, res) => {
    if (down) {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.startsWith('TrentService.')
        ? target.slice('TrentService.'.length)
        : '';
      const send = (status: number, payload: object) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(payload));
      };
      if (
        req.method !== 'POST' ||
        req.headers['content-type'] !== 'application/x-amz-json-1.1' ||
        !String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')
      ) {
        return send(400, { __type: 'SerializationException', message: 'bad request' });
      }
      const handler = handlers[operation];
      if (!handler) return send(400, { __type: 'UnknownOperationException', message: operation });
      calls.push(operation);
      const [status, payload] = handler(JSON.parse(Buffer.concat(chunks).toString() || '{}'));
      send(status, payload);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let n = 0;
  return {
    // eslint-disable-next-line @microsoft/sdl/no-insecure-url -- a test stand-in on loopback
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    createKey() {
      const arn = `arn:aws:kms:us-east-1:111122223333:key/standin-${++n}`;
      keys.set(arn, { material: randomBytes(32), state: 'Enabled' });
      return arn;
    },
    outage(on) {
      down = on;
    },
    disable(arn) {
      const key = keys.get(arn);
      if (key) key.state = 'Disabled';
    },
    delete(arn) {
      keys.delete(arn);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
