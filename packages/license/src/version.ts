/** This package's version, written in by the build (tsup `define`) and the test configuration. */
declare const __FLUXEL_PACKAGE_VERSION__: string;

export const PACKAGE_VERSION: string = __FLUXEL_PACKAGE_VERSION__;
