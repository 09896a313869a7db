/** Test PKI for the client tests: a CA and a server certificate for 127.0.0.1 / localhost. */
import { makeTestPki } from '@fluxel/internal/pki';

export interface Pki {
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
}

/** A CA named `caName` and a server certificate it issued for 127.0.0.1 and localhost. */
export function makePki(caName: string): Pki {
  const pki = makeTestPki({ caName });
  return { caCert: pki.caPem, serverCert: pki.certPem, serverKey: pki.keyPem };
}
