/** This package's version, written in by the build (tsup `define`) and the test configuration. */
declare const __FLUXEL_PACKAGE_VERSION__: string;

export const PACKAGE_VERSION: string = __FLUXEL_PACKAGE_VERSION__;

/** The User-Agent RFC 8555 §6.1 asks ACME clients to send: who we are, and which version. */
export const USER_AGENT = `fluxel-acme-lite/${PACKAGE_VERSION}`;
