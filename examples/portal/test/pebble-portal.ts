/**
 * Pebble (the ACME test CA) for the certificates suites: started, with the portal's ACME
 * settings pointed at it (the portal reads them from the environment when it starts), and what
 * a fresh TLS connection to the portal is shown.
 */
import { checkServerIdentity, connect, type PeerCertificate } from 'node:tls';
import { missingDependency } from '@fluxel/internal/testing';
import {
  type Pebble,
  pebbleAvailable,
  startPebble,
} from '../../../packages/acme-lite/test/pebble-harness.ts';

/** The name the portal's certificate is ordered for (pebble-challtestsrv answers 127.0.0.1). */
export const DOMAIN = 'portal.localhost';

/** Why the Pebble suites cannot run (a missing Pebble fails under CI=true), or false. */
export function pebbleMissing(): string | false {
  return pebbleAvailable()
    ? false
    : missingDependency(
        'pebble, pebble-challtestsrv and openssl',
        'apt-get install pebble openssl',
      );
}

export interface PortalPebble {
  readonly pebble: Pebble;
  /** Pebble's issuing root: what a certificate it issued is verified against. */
  readonly root: string;
  /** Points the portal's evaluation at its own port, once it runs. */
  portalStarted(port: number): void;
  /** Stops Pebble and puts the environment back as it was. */
  stop(): Promise<void>;
}

/** Starts Pebble and sets the portal's ACME, HTTP-01 and evaluation settings to use it. */
export async function startPortalPebble(): Promise<PortalPebble> {
  const env = { ...process.env };
  const pebble = await startPebble();
  const root = await pebble.root();
  process.env.PORTAL_ACME_DIRECTORY = pebble.directoryUrl;
  process.env.PORTAL_ACME_CA = pebble.listenerCa;
  process.env.PORTAL_HTTP01_PORT = String(pebble.httpPort);
  process.env.PORTAL_HTTP01_HOST = '127.0.0.1';
  process.env.PORTAL_EVALUATE_HOST = '127.0.0.1';
  process.env.PORTAL_EVALUATE_CA = root;
  return {
    pebble,
    root,
    portalStarted(port) {
      process.env.PORTAL_EVALUATE_PORT = String(port);
    },
    async stop() {
      await pebble.stop();
      process.env = env;
    },
  };
}

/** Serial (lower-case hex) and issuer of the certificate a fresh TLS connection is shown. */
export function servedCertificate(
  port: number,
  ca: string[],
  servername: string,
): Promise<{ serial: string; issuer: string; authorized: boolean; subjectaltname: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      servername,
      // Verified against the CAs the test names (never with verification off).
      ca,
    });
    socket.once('secureConnect', () => {
      const peer: PeerCertificate = socket.getPeerCertificate();
      resolve({
        serial: peer.serialNumber.toLowerCase().replace(/^0+(?=.)/, ''),
        issuer: String(peer.issuer.CN ?? ''),
        authorized: socket.authorized && !checkServerIdentity(servername, peer),
        subjectaltname: peer.subjectaltname ?? '',
      });
      socket.destroy();
    });
    socket.once('error', reject);
  });
}
