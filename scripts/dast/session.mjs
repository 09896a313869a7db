// Signs a portal administrator in over the portal's real API (invitation -> password -> TOTP
// enrolment), so the DAST scan also reaches what sits behind the login. Returns the cookie
// header and the CSRF token the web app would send.
import { createHmac, randomBytes } from 'node:crypto';
import { request } from 'node:https';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32Decode(text) {
  const bytes = [];
  let bits = 0;
  let value = 0;
  for (const ch of text.replace(/[=\s]/g, '').toUpperCase()) {
    const index = BASE32.indexOf(ch);
    if (index < 0) throw new Error('TOTP secret is not base32');
    value = ((value << 5) | index) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((value >> bits) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

/** RFC 6238 code (HMAC-SHA-1, 6 digits, 30-second steps). */
function totpCode(secret, now = Date.now()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(now / 30_000)));
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const at = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

class Client {
  cookies = new Map();
  csrf = '';
  constructor(origin, ca) {
    this.origin = origin;
    this.ca = ca;
  }

  call(method, path, body) {
    const url = new URL(path, this.origin);
    const headers = { accept: 'application/json' };
    if (this.cookies.size) headers.cookie = this.cookieHeader();
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET') {
      headers.origin = this.origin;
      if (this.csrf) headers['x-csrf-token'] = this.csrf;
    }
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((done, fail) => {
      const req = request(url, { method, headers, ca: this.ca }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const setCookie = res.headers['set-cookie'] ?? [];
          for (const line of setCookie) {
            const [pair] = line.split(';');
            const eq = pair.indexOf('=');
            if (eq <= 0) continue;
            const name = pair.slice(0, eq);
            if (/max-age=0/i.test(line)) this.cookies.delete(name);
            else this.cookies.set(name, pair.slice(eq + 1));
          }
          let json;
          try {
            json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            json = undefined;
          }
          const token = json?.csrfToken ?? json?.session?.csrfToken;
          if (typeof token === 'string') this.csrf = token;
          done({ status: res.statusCode, body: json });
        });
      });
      req.on('error', fail);
      req.end(payload);
    });
  }

  cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

async function must(promise, what) {
  const res = await promise;
  if (res.status !== 200)
    throw new Error(`DAST sign-in: ${what} answered ${res.status} ${res.body?.code ?? ''}`);
  return res;
}

/** Accepts the first administrator's invitation and enrols TOTP; returns the signed-in session. */
export async function adminSession(portalUrl, ca, invitationToken) {
  const client = new Client(portalUrl, ca);
  await client.call('GET', '/api/session');
  await must(
    client.call('POST', `/api/invitations/${encodeURIComponent(invitationToken)}/accept`, {
      name: 'DAST Scanner',
      password: `Zq9-${randomBytes(18).toString('base64url')}`,
    }),
    'accepting the invitation',
  );
  const start = await must(client.call('POST', '/api/enrol/totp/start', {}), 'TOTP enrolment');
  await must(
    client.call('POST', '/api/enrol/totp/confirm', { code: totpCode(start.body.secret) }),
    'TOTP confirmation',
  );
  const me = await must(client.call('GET', '/api/me'), 'GET /api/me');
  return { cookie: client.cookieHeader(), csrf: client.csrf, user: me.body };
}

/** Whether the session (cookie header) is still signed in: GET /api/me answers 200. */
export async function signedIn(portalUrl, ca, cookie) {
  const client = new Client(portalUrl, ca);
  for (const pair of cookie.split('; ')) {
    const eq = pair.indexOf('=');
    if (eq > 0) client.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  const res = await client.call('GET', '/api/me');
  return res.status === 200;
}
