/**
 * Browser test plumbing shared by the portal's browser suites: Debian's Chromium through
 * playwright-core (never a downloaded browser), trusting the portal's dev certificate by its
 * SPKI pin (a real secure context, so WebAuthn works), screenshots on FLUXEL_SCREENSHOTS=1.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingDependency, READY_BOUND_MS } from '@fluxel/internal/testing';
import { spkiPin } from '@fluxel/relay-client/node';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll } from 'vitest';
import type { PortalOptions } from '../src/server/app.ts';
import {
  code,
  type HarnessOptions,
  PASSWORD,
  type PortalHarness,
  startPortalHarness,
} from './helpers.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SHOTS = process.env.FLUXEL_SCREENSHOTS === '1';
const shotsDir = join(import.meta.dirname, '..', 'screenshots');

/** Whether Chromium is here; when not, skips locally and fails under CI. */
export function chromiumAvailable(): boolean {
  const available = existsSync(CHROMIUM);
  if (!available) missingDependency('Chromium', 'apt-get install chromium');
  return available;
}

export interface BrowserHarness {
  readonly h: PortalHarness;
  readonly browser: Browser;
  newPage(): Promise<{ context: BrowserContext; page: Page }>;
  close(): Promise<void>;
}

const portalDir = join(import.meta.dirname, '..');

/** A digest of everything the web build reads: the app, the shared code, the contracts. */
function webSourceDigest(): string {
  const hash = createHash('sha256');
  for (const dir of ['web', 'src/shared', 'src/features']) {
    const abs = join(portalDir, dir);
    if (!existsSync(abs)) continue;
    const files = readdirSync(abs, { recursive: true })
      .map(String)
      .filter((f) => !f.startsWith('node_modules') && statSync(join(abs, f)).isFile())
      .sort();
    for (const f of files) hash.update(`${dir}/${f}\0`).update(readFileSync(join(abs, f)));
  }
  hash.update(readFileSync(join(portalDir, 'vite.config.ts')));
  return hash.digest('hex').slice(0, 16);
}

/**
 * The web app built once per content: browser suites (each its own worker) share a build of
 * the same sources instead of each running Vite. Built into a fresh folder, then renamed into
 * place, so a suite never serves a half-written build.
 */
export async function builtWeb(): Promise<string> {
  const dir = join(tmpdir(), `fluxel-portal-web-${webSourceDigest()}`);
  if (existsSync(join(dir, 'index.html'))) return dir;
  const fresh = mkdtempSync(join(tmpdir(), 'fluxel-portal-web-build-'));
  await build({
    configFile: join(portalDir, 'vite.config.ts'),
    root: join(portalDir, 'web'),
    logLevel: 'error',
    build: { outDir: fresh, emptyOutDir: true },
  });
  try {
    renameSync(fresh, dir);
  } catch {
    // Another suite put the same build in place first.
    rmSync(fresh, { recursive: true, force: true });
  }
  return dir;
}

/**
 * Debian's Chromium, headless, trusting the given certificates (PEM) by their SPKI pins: a
 * chain is accepted when any certificate in it has a listed key, and nothing else is.
 */
export function launchChromium(trusted: readonly string[]): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--ignore-certificate-errors-spki-list=${trusted.map(spkiPin).join(',')}`,
    ],
  });
}

/** A fresh German context and page at the screenshots' size; a page error fails the test. */
export async function openPage(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    locale: 'de-DE',
    viewport: { width: 1280, height: 860 },
  });
  // Playwright's own limits (30 s per action) are budgets a busy machine misses: waiting for an
  // element or a navigation is bounded like every other readiness wait.
  context.setDefaultTimeout(READY_BOUND_MS);
  context.setDefaultNavigationTimeout(READY_BOUND_MS);
  const page = await context.newPage();
  page.on('pageerror', (error) => {
    throw error;
  });
  return { context, page };
}

export interface BrowserHarnessOptions {
  /** Portal options for the harness (e.g. `extraRoutes`, `sso`). */
  readonly portal?: Partial<PortalOptions> | undefined;
  readonly harness?: HarnessOptions | undefined;
  /** Certificates (PEM) Chromium trusts besides the portal's own. */
  readonly trust?: readonly string[] | undefined;
}

/** Starts the portal harness serving the built web app, and Chromium trusting its certificate. */
export async function startBrowserHarness(
  options: BrowserHarnessOptions = {},
): Promise<BrowserHarness> {
  const webDir = await builtWeb();
  const h = await startPortalHarness({ webDir, ...options.portal }, options.harness);
  const browser = await launchChromium([h.portal.tls.cert, ...(options.trust ?? [])]);
  return {
    h,
    browser,
    newPage: () => openPage(browser),
    async close() {
      await browser.close();
      await h.close();
    },
  };
}

export interface BrowserSuiteOptions extends Omit<BrowserHarnessOptions, 'trust'> {
  /**
   * Whether the suite runs; the default is whether Chromium is here (`chromiumAvailable`: a
   * missing Chromium fails the file under CI=true). A suite needing more passes its own.
   */
  readonly available?: boolean;
  /** Certificates Chromium trusts besides the portal's, read when the harness starts. */
  readonly trust?: (() => readonly string[]) | undefined;
  /** Runs once the harness is up (tenants, users the suite shares). */
  readonly setup?: (b: BrowserHarness) => Promise<void> | void;
}

export interface BrowserSuite extends BrowserHarness {
  /** Whether the suite runs: give it to `describe.skipIf(!b.available)`. */
  readonly available: boolean;
}

/**
 * The set-up every browser suite shares: a harness started before the file's tests (when the
 * suite runs) and closed after them. Returns the harness, readable inside the tests; call it
 * at the top of the file and pair it with `describe.skipIf(!b.available)`. Hooks the file
 * registers before it run before the harness starts and (vitest stacks after-hooks) after it
 * closes.
 */
export function setUpBrowserHarness(options: BrowserSuiteOptions = {}): BrowserSuite {
  const available = options.available ?? chromiumAvailable();
  let current: BrowserHarness | undefined;
  const started = (): BrowserHarness => {
    if (!current) throw new Error('the browser harness is not started (is the suite skipped?)');
    return current;
  };
  beforeAll(async () => {
    if (!available) return;
    const { portal, harness, trust } = options;
    current = await startBrowserHarness({ portal, harness, trust: trust?.() });
    await options.setup?.(current);
  });
  afterAll(async () => {
    await current?.close();
  });
  return {
    available,
    get h() {
      return started().h;
    },
    get browser() {
      return started().browser;
    },
    newPage: () => started().newPage(),
    close: () => started().close(),
  };
}

export async function shot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(shotsDir, { recursive: true });
  await page.screenshot({ path: join(shotsDir, `${name}.png`), fullPage: true });
}

export const byTest = (page: Page, id: string) => page.getByTestId(id);

export async function signInWithTotp(
  h: PortalHarness,
  page: Page,
  email: string,
  secret: string,
): Promise<void> {
  await page.goto(`${h.portal.url}/login`);
  await page.locator('input[name=email]').fill(email);
  await page.locator('input[name=password]').fill(PASSWORD);
  await byTest(page, 'login-submit').click();
  await byTest(page, 'method-totp').check();
  h.clock.offsetMs += 30_000;
  await page.locator('input[name=code]').fill(code(h, secret));
  await byTest(page, 'code-submit').click();
  await byTest(page, 'logout').waitFor();
}

/** Accepts an invitation in the browser and enrols TOTP; returns the secret. */
export async function acceptInvitation(
  h: PortalHarness,
  page: Page,
  token: string,
  name: string,
): Promise<string> {
  await page.goto(`${h.portal.url}/invite/${token}`);
  await byTest(page, 'invitation').waitFor();
  await page.locator('input[name=name]').fill(name);
  await page.locator('input[name=password]').fill(PASSWORD);
  await byTest(page, 'invite-accept').click();
  await byTest(page, 'totp-start').click();
  const form = byTest(page, 'totp-form');
  await form.waitFor();
  const secret = (await byTest(page, 'totp-secret').innerText()).replace(/\s/g, '');
  await form.locator('input[name=code]').fill(code(h, secret));
  await byTest(page, 'totp-confirm').click();
  await byTest(page, 'recovery-codes').waitFor();
  return secret;
}

let axeSource: string | undefined;

/**
 * Runs axe-core (WCAG 2.x A/AA rules) in the page and returns the serious and critical
 * violations as `rule: selector` strings. The script is evaluated through the DevTools protocol,
 * so the page's CSP (no inline script) stays as it is.
 */
export async function a11yViolations(page: Page): Promise<string[]> {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(`${axeSource};0`);
  const results = (await page.evaluate(`axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) })))`)) as {
    id: string;
    impact: string;
    nodes: string[];
  }[];
  return results
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((n) => `${v.id}: ${n}`));
}
