/**
 * Browser test plumbing shared by the portal's browser suites: Debian's Chromium through
 * playwright-core (never a downloaded browser), trusting the portal's dev certificate by its
 * SPKI pin (a real secure context, so WebAuthn works), screenshots on FLUXEL_SCREENSHOTS=1.
 */
import { createHash, X509Certificate } from 'node:crypto';
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
import { missingDependency } from '@fluxel/internal/testing';
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
async function builtWeb(): Promise<string> {
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

/** Builds the web app into a temporary folder, starts the portal harness and Chromium. */
export async function startBrowserHarness(
  options: Partial<PortalOptions> = {},
  harness: HarnessOptions = {},
): Promise<BrowserHarness> {
  const webDir = await builtWeb();
  const h = await startPortalHarness({ webDir, ...options }, harness);
  const spki = createHash('sha256')
    .update(
      new X509Certificate(h.portal.tls.cert).publicKey.export({ type: 'spki', format: 'der' }),
    )
    .digest('base64');
  const browser = await chromium.launch({
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
      `--ignore-certificate-errors-spki-list=${spki}`,
    ],
  });
  return {
    h,
    browser,
    async newPage() {
      const context = await browser.newContext({
        locale: 'de-DE',
        viewport: { width: 1280, height: 860 },
      });
      const page = await context.newPage();
      page.on('pageerror', (error) => {
        throw error;
      });
      return { context, page };
    },
    async close() {
      await browser.close();
      await h.close();
    },
  };
}

export interface BrowserSuiteOptions {
  /** Portal options for the harness (e.g. `extraRoutes`). */
  readonly portal?: Partial<PortalOptions>;
  readonly harness?: HarnessOptions;
  /** Runs once the harness is up (tenants, users the suite shares). */
  readonly setup?: (b: BrowserHarness) => Promise<void>;
  readonly timeoutMs?: number;
}

/**
 * The set-up every browser suite shares: a harness started before the file's tests (when
 * Chromium is here) and closed after them. Returns the harness, readable inside the tests.
 * Pair it with `describe.skipIf(!chromiumAvailable())`.
 */
export function useBrowserHarness(options: BrowserSuiteOptions = {}): BrowserHarness {
  let current: BrowserHarness | undefined;
  const started = (): BrowserHarness => {
    if (!current) throw new Error('the browser harness is not started (is Chromium here?)');
    return current;
  };
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) return;
    current = await startBrowserHarness(options.portal, options.harness);
    await options.setup?.(current);
  }, options.timeoutMs ?? 180_000);
  afterAll(async () => {
    await current?.close();
  });
  return {
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
