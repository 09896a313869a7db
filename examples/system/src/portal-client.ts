/**
 * Drives the portal's real HTTP API the way its web app does: a cookie jar, the `Origin`
 * header and the CSRF token (double-submit cookie before sign-in, session token after).
 */
import { Agent, request } from 'undici';
import { totp } from './totp.ts';

export interface PortalResponse<T = Record<string, unknown>> {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: T;
  readonly bytes: Buffer;
}

export class PortalClient {
  readonly cookies = new Map<string, string>();
  csrf = '';
  readonly #dispatcher: Agent;

  constructor(
    readonly origin: string,
    ca: string,
  ) {
    this.#dispatcher = new Agent({ connect: { ca } });
  }

  async call<T = Record<string, unknown>>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    body?: unknown,
  ): Promise<PortalResponse<T>> {
    const headers: Record<string, string> = {};
    if (this.cookies.size)
      headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET') {
      headers.origin = this.origin;
      if (this.csrf) headers['x-csrf-token'] = this.csrf;
    }
    const res = await request(`${this.origin}${path}`, {
      method,
      dispatcher: this.#dispatcher,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const setCookie = res.headers['set-cookie'];
    for (const c of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const [pair] = c.split(';');
      const [name, ...value] = (pair ?? '').split('=');
      if (!name) continue;
      if (/Max-Age=0/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value.join('='));
    }
    const bytes = Buffer.from(await res.body.arrayBuffer());
    let parsed: unknown;
    try {
      parsed = bytes.length ? JSON.parse(bytes.toString('utf8')) : undefined;
    } catch {
      parsed = undefined;
    }
    const token =
      (parsed as { csrfToken?: string } | undefined)?.csrfToken ??
      (parsed as { session?: { csrfToken?: string } } | undefined)?.session?.csrfToken;
    if (typeof token === 'string') this.csrf = token;
    return { status: res.statusCode, headers: res.headers, body: parsed as T, bytes };
  }

  get = <T = Record<string, unknown>>(path: string) => this.call<T>('GET', path);
  post = <T = Record<string, unknown>>(path: string, body: unknown = {}) =>
    this.call<T>('POST', path, body);

  /** Accepts an invitation and enrols TOTP; returns the TOTP secret and its otpauth URI. */
  async acceptInvitation(
    token: string,
    name: string,
    password: string,
  ): Promise<{ secret: string; otpauthUrl: string; userId: string }> {
    await this.get('/api/session');
    const accepted = await this.post(`/api/invitations/${token}/accept`, { name, password });
    if (accepted.status !== 200)
      throw new Error(
        `portal: accepting the invitation failed (${accepted.status} ${problemOf(accepted.body)})`,
      );
    const start = await this.post<{ secret: string; otpauthUrl: string }>('/api/enrol/totp/start');
    if (start.status !== 200)
      throw new Error(`portal: TOTP enrolment failed (${start.status} ${problemOf(start.body)})`);
    const done = await this.post<{ session: { user?: { id: string } } }>(
      '/api/enrol/totp/confirm',
      { code: totp(start.body.secret) },
    );
    if (done.status !== 200)
      throw new Error(`portal: TOTP confirmation failed (${done.status} ${problemOf(done.body)})`);
    return {
      secret: start.body.secret,
      otpauthUrl: start.body.otpauthUrl,
      userId: done.body.session.user?.id ?? '',
    };
  }

  /**
   * Password, then the TOTP code. A code is accepted once per 30-second step, so when the
   * current one was just used (enrolment) the next step's code is tried (inside the window).
   */
  async signIn(email: string, password: string, secret: string): Promise<PortalResponse> {
    await this.get('/api/session');
    const first = await this.post('/api/auth/login', { email, password });
    if (first.status !== 200) return first;
    let last = first;
    for (const step of [0, 1]) {
      last = await this.post('/api/auth/second-factor', {
        method: 'totp',
        code: totp(secret, Date.now(), step),
      });
      if (last.status === 200) return last;
    }
    return last;
  }

  async close(): Promise<void> {
    await this.#dispatcher.close();
  }
}

/** The problem's code and title (never request data). */
function problemOf(body: unknown): string {
  const p = (body ?? {}) as { code?: string; title?: string; detail?: string };
  return [p.code, p.title, p.detail].filter(Boolean).join(': ');
}
