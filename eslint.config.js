// SAST for the Fluxel SDK: security rules only. Formatting and general linting stay with Biome
// (`pnpm lint`); the only overlap is Biome's own eval / dangerouslySetInnerHTML checks. Run with
// `pnpm lint:security`. Every finding is either fixed or suppressed inline with
// `// eslint-disable-next-line <rule> -- <reason>`; a rule is switched off for more than one line
// only in this file, with the reason written next to it (scoped rules below, and reviewed
// one-rule-one-file exceptions at the end). Triage notes: docs/security.md ("SAST").
import sdl from '@microsoft/eslint-plugin-sdl';
import pluginN from 'eslint-plugin-n';
import react from 'eslint-plugin-react';
import security from 'eslint-plugin-security';
import tseslint from 'typescript-eslint';

const codeFiles = ['**/*.{js,mjs,cjs,ts,mts,cts,tsx,jsx}'];
const testFiles = [
  '**/test/**',
  '**/*.test.{ts,tsx,mts,js,mjs}',
  '**/*.test-d.ts',
  'examples/system/load/**',
  'scripts/*-selftest.mjs',
];
// Code that turns network input into property keys or file names: the request handlers of the
// relay and the portal, and the ACME HTTP-01 responders (challenge token -> key authorisation).
const requestHandlers = [
  'examples/relay/src/relay.ts',
  'examples/relay/src/webhooks.ts',
  'examples/relay/src/portal.ts',
  'examples/relay/src/admin.ts',
  'examples/relay/src/vault.ts',
  'examples/portal/src/server/routes/**',
  // Every feature's request handlers and the use cases they hand network input to.
  'examples/portal/src/features/*/{routes,service}.ts',
  'packages/acme-lite/src/http01.ts',
  'packages/acme-lite/src/fastify.ts',
  'packages/acme-lite/src/hono.ts',
];

export default [
  {
    name: 'fluxel/ignores',
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/.reports/**',
      '**/coverage/**',
      '**/.turbo/**',
      '**/.data/**',
      'docs/api/**',
      '**/tsup.config.bundled_*',
    ],
  },
  {
    name: 'fluxel/language',
    files: codeFiles,
    languageOptions: {
      parser: tseslint.parser,
      ecmaVersion: 'latest',
      sourceType: 'module',
      parserOptions: { ecmaFeatures: { jsx: true } },
    },
    linterOptions: {
      // A stale `eslint-disable` comment is itself a finding: suppressions must stay justified.
      reportUnusedDisableDirectives: 'error',
    },
    settings: { react: { version: '19.2' } },
    plugins: {
      '@microsoft/sdl': sdl,
      n: pluginN,
      react,
      security,
    },
    rules: {
      // Code execution from strings.
      'no-eval': 'error',
      'no-implied-eval': 'error',
      'no-new-func': 'error',
      'no-caller': 'error',
      'no-script-url': 'error',

      // Microsoft SDL (browser + Node).
      '@microsoft/sdl/no-cookies': 'error',
      '@microsoft/sdl/no-document-domain': 'error',
      '@microsoft/sdl/no-document-write': 'error',
      '@microsoft/sdl/no-html-method': 'error',
      '@microsoft/sdl/no-inner-html': 'error',
      '@microsoft/sdl/no-insecure-random': 'error',
      '@microsoft/sdl/no-insecure-url': 'error',
      '@microsoft/sdl/no-msapp-exec-unsafe': 'error',
      '@microsoft/sdl/no-postmessage-star-origin': 'error',
      '@microsoft/sdl/no-unsafe-alloc': 'error',
      '@microsoft/sdl/no-winjs-html-unsafe': 'error',
      '@microsoft/sdl/no-electron-node-integration': 'error',
      'n/no-deprecated-api': 'error',

      // React (the portal's web app).
      'react/no-danger': 'error',
      'react/jsx-no-target-blank': [
        'error',
        { allowReferrer: false, enforceDynamicLinks: 'always', warnOnSpreadAttributes: true },
      ],
      'react/iframe-missing-sandbox': 'error',
      'react/jsx-no-script-url': 'error',

      // eslint-plugin-security: all of its rules, as errors.
      'security/detect-buffer-noassert': 'error',
      'security/detect-child-process': 'error',
      'security/detect-disable-mustache-escape': 'error',
      'security/detect-eval-with-expression': 'error',
      'security/detect-new-buffer': 'error',
      'security/detect-no-csrf-before-method-override': 'error',
      // Off here, on for `requestHandlers` below. Both rules flag every non-constant file name
      // and every `obj[key]` (≈ 300 hits each, array indexing included); in this repository file
      // names come from the operator's configuration or from constants, and keys from typed
      // code. Where network input could become a key or a path (the request handlers and the
      // ACME challenge responders) the rules stay on, and every hit there is triaged inline.
      'security/detect-non-literal-fs-filename': 'off',
      'security/detect-object-injection': 'off',
      'security/detect-non-literal-regexp': 'error',
      'security/detect-non-literal-require': 'error',
      'security/detect-possible-timing-attacks': 'error',
      'security/detect-pseudoRandomBytes': 'error',
      'security/detect-unsafe-regex': 'error',
      'security/detect-bidi-characters': 'error',
      'security/detect-invisible-characters': 'error',
    },
  },
  {
    name: 'fluxel/request-handlers',
    files: requestHandlers,
    rules: {
      'security/detect-non-literal-fs-filename': 'error',
      'security/detect-object-injection': 'error',
    },
  },
  {
    // Tests and the load harness are never shipped. They spawn processes, write tampered files
    // to temporary paths, talk plain HTTP to loopback stand-ins (counterpart, KMS, SIEM, SMS
    // gateways), use Math.random for test data and compare values with `===` on purpose.
    // What stays on for them: code execution from strings, hidden characters (Trojan Source),
    // deprecated and unsafe Buffer APIs.
    name: 'fluxel/tests',
    files: testFiles,
    rules: {
      'security/detect-child-process': 'off',
      'security/detect-non-literal-fs-filename': 'off',
      'security/detect-object-injection': 'off',
      'security/detect-non-literal-regexp': 'off',
      'security/detect-unsafe-regex': 'off',
      'security/detect-possible-timing-attacks': 'off',
      '@microsoft/sdl/no-insecure-url': 'off',
      '@microsoft/sdl/no-insecure-random': 'off',
    },
  },
  // --- Reviewed exceptions in files that other people were changing while this was set up. ---
  // Each is scoped to one rule in one file. The false positives should move to inline
  // `eslint-disable-next-line … -- reason` comments when their owners next touch the file;
  // the one real finding must be fixed (docs/security.md, "Known gaps").
  {
    name: 'fluxel/reviewed-portal-onboarding',
    // Terms files are read from the portal's own data directory; their names are checked by
    // /^[A-Za-z0-9._-]+\.md$/ (no slash). `terms.text[locale]` / `adv.text[locale]`: locale is
    // 'de' or 'en' by construction.
    files: ['examples/portal/src/server/routes/onboarding.ts'],
    rules: {
      'security/detect-non-literal-fs-filename': 'off',
      'security/detect-object-injection': 'off',
    },
  },
  {
    name: 'fluxel/reviewed-linear-regexes',
    // Star height 1 with a literal delimiter or an optional group: linear time.
    // check-deploy.mjs: Compose interpolation over our own stack files.
    files: ['scripts/check-deploy.mjs'],
    rules: { 'security/detect-unsafe-regex': 'off' },
  },
  {
    name: 'fluxel/reviewed-constant-regexps',
    // RegExp built from a constant (ANSI escape), from an escaped e-mail address of our own
    // test seed, or from a Dockerfile stage name matched by /^[a-z0-9]+$/i just before.
    files: [
      'benchmarks/src/report/model.ts',
      'examples/system/src/seed.ts',
      'scripts/check-deploy.mjs',
    ],
    rules: { 'security/detect-non-literal-regexp': 'off' },
  },
  {
    name: 'fluxel/reviewed-loopback-http',
    // The counterpart stand-in the system suite starts listens on loopback only.
    files: ['examples/system/src/launch.ts'],
    rules: { '@microsoft/sdl/no-insecure-url': 'off' },
  },
];
