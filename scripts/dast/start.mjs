// Starts the relay and the portal for a DAST run: HTTPS with the relay's dev CA, embedded
// databases in a fresh temporary directory, free high ports, the portal serving its production
// web build (`examples/portal/dist/web`, built first if missing).
//
// As a module: `const stack = await startStack(); … await stack.stop();`
// As a program: `node scripts/dast/start.mjs` prints one JSON line with the URLs and the CA, and
// keeps both running until SIGINT/SIGTERM.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** A free TCP port on loopback, picked by the kernel from its ephemeral (high) range. */
export function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

function start(name, cwd, script, env, readyLine, timeoutMs, log) {
  const tsx = join(cwd, 'node_modules', '.bin', 'tsx');
  const child = spawn(tsx, [script], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: false,
  });
  const output = [];
  const ready = new Promise((done, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`${name} not ready after ${timeoutMs} ms:\n${output.join('')}`)),
      timeoutMs,
    );
    const onData = (chunk) => {
      const text = chunk.toString();
      output.push(text);
      if (log) log(name, text);
      if (output.join('').includes(readyLine)) {
        clearTimeout(timer);
        done();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      fail(
        new Error(`${name} exited (${code ?? signal}) before it was ready:\n${output.join('')}`),
      );
    });
  });
  return { child, ready, output };
}

function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    child.kill('SIGTERM');
  });
}

export async function startStack(options = {}) {
  const log = options.log;
  const portalDir = join(root, 'examples', 'portal');
  const relayDir = join(root, 'examples', 'relay');
  if (!existsSync(join(portalDir, 'dist', 'web', 'index.html'))) {
    log?.('build', 'building the portal web app (pnpm --filter @fluxel-example/portal build)\n');
    const built = spawnSync('pnpm', ['--filter', '@fluxel-example/portal', 'build'], {
      cwd: root,
      stdio: 'inherit',
    });
    if (built.status !== 0) throw new Error('portal web build failed');
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'fluxel-dast-'));
  const relayData = join(dataDir, 'relay');
  const [relayPort, adminPort, portalPort] = [await freePort(), await freePort(), await freePort()];
  const children = [];
  const stop = async () => {
    await Promise.all(children.map(stopChild));
    if (!options.keepData) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const relay = start(
      'relay',
      relayDir,
      'src/main.ts',
      {
        RELAY_PORT: String(relayPort),
        RELAY_ADMIN_PORT: String(adminPort),
        RELAY_DATA_DIR: relayData,
        RELAY_LOG: '0',
        // The scanner sends thousands of requests from one address; with the per-IP limit on it
        // would see mostly 429s and test nothing behind them.
        RELAY_RATE_LIMIT: '0',
        RELAY_DEMO_LICENSE: '0',
      },
      'relay ready',
      120_000,
      log,
    );
    children.push(relay.child);
    await relay.ready;
    const portal = start(
      'portal',
      portalDir,
      'src/server/dev.ts',
      {
        PORTAL_VITE: '0',
        PORTAL_PORT: String(portalPort),
        PORTAL_DATA_DIR: join(dataDir, 'portal'),
        RELAY_DATA_DIR: relayData,
        PORTAL_LOG: '0',
      },
      'portal ready',
      120_000,
      log,
    );
    children.push(portal.child);
    await portal.ready;
    return {
      relayOutput: () => relay.output.join(''),
      portalOutput: () => portal.output.join(''),
      relayUrl: `https://127.0.0.1:${relayPort}`,
      portalUrl: `https://localhost:${portalPort}`,
      caPath: join(relayData, 'tls', 'ca.pem'),
      dataDir,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const stack = await startStack({
    log: (name, text) => process.stderr.write(text.replace(/^/gm, `[${name}] `)),
  });
  const { stop, relayOutput, portalOutput, ...info } = stack;
  console.log(JSON.stringify(info));
  for (const signal of ['SIGINT', 'SIGTERM'])
    process.on(signal, () => {
      stop().then(() => process.exit(0));
    });
}
