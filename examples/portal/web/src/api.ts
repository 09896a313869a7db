/**
 * The portal's HTTP client: JSON over `fetch` with the session cookie, the CSRF header on every
 * state-changing request, and problem+json errors as a typed `ApiError`.
 */
import { SessionInfoSchema } from '../../src/features/auth/contract.ts';
import type {
  ErrorCode,
  FieldProblem,
  FieldReason,
  Problem,
  SessionInfo,
} from '../../src/shared/api.ts';

export class ApiError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly title: string;
  readonly detail: string | undefined;
  /** Seconds until a throttled request may be retried (as the server said it). */
  readonly retryAfter: number | undefined;
  /** When it may be retried (ms since the epoch), for a countdown. */
  readonly retryAt: number | undefined;
  /** Refused fields; the app shows their `reason` translated, never their `message`. */
  readonly fields: readonly FieldProblem[];

  constructor(init: {
    status: number;
    code: ErrorCode;
    title: string;
    detail?: string | undefined;
    retryAfter?: number | undefined;
    fields?: readonly FieldProblem[] | undefined;
  }) {
    super(init.detail ?? init.title);
    this.name = 'ApiError';
    this.status = init.status;
    this.code = init.code;
    this.title = init.title;
    this.detail = init.detail;
    this.retryAfter = init.retryAfter;
    this.retryAt = init.retryAfter === undefined ? undefined : Date.now() + init.retryAfter * 1000;
    this.fields = init.fields ?? [];
  }
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

let csrfToken = '';
let onUnauthenticated: ((error: ApiError) => void) | undefined;

/** Called with every 401 `unauthenticated` (the app then goes back to /login). */
export function setUnauthenticatedHandler(handler: (error: ApiError) => void): void {
  onUnauthenticated = handler;
}

export function setCsrfToken(token: string): void {
  csrfToken = token;
}

function isSessionInfo(value: unknown): value is SessionInfo {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { csrfToken?: unknown }).csrfToken === 'string' &&
    typeof (value as { stage?: unknown }).stage === 'string'
  );
}

function statusCode(status: number): ErrorCode {
  if (status === 400) return 'bad_request';
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  if (status === 429) return 'throttled';
  if (status === 502 || status === 503 || status === 504) return 'upstream_unavailable';
  return 'internal';
}

/** A field of a problem as the app uses it: without a reason it reads as `invalid`. */
function toField(field: Partial<FieldProblem>): FieldProblem {
  return {
    path: typeof field.path === 'string' ? field.path : '',
    reason: typeof field.reason === 'string' ? (field.reason as FieldReason) : 'invalid',
    message: typeof field.message === 'string' ? field.message : '',
  };
}

async function toApiError(res: Response): Promise<ApiError> {
  let problem: Partial<Problem> = {};
  try {
    const body: unknown = await res.json();
    if (typeof body === 'object' && body !== null) problem = body as Partial<Problem>;
  } catch {
    // Not JSON (a proxy's error page, say): fall back to the status.
  }
  const header = Number(res.headers.get('retry-after'));
  const retryAfter =
    typeof problem.retryAfter === 'number'
      ? problem.retryAfter
      : Number.isFinite(header) && header > 0
        ? header
        : undefined;
  return new ApiError({
    status: res.status,
    code: typeof problem.code === 'string' ? problem.code : statusCode(res.status),
    title:
      typeof problem.title === 'string' ? problem.title : res.statusText || `HTTP ${res.status}`,
    detail: typeof problem.detail === 'string' ? problem.detail : undefined,
    retryAfter,
    fields: Array.isArray(problem.fields) ? problem.fields.map(toField) : undefined,
  });
}

async function send(method: Method, path: string, body: unknown): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  const init: RequestInit = { method, credentials: 'same-origin', headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  try {
    return await fetch(path, init);
  } catch {
    throw new ApiError({ status: 0, code: 'upstream_unavailable', title: 'Network error' });
  }
}

/**
 * One request. Returns the parsed JSON body (or `undefined` for 204). A response that is a
 * `SessionInfo` (every sign-in step) updates the CSRF token, since the session id changed.
 * A 403 `csrf` is retried once with a freshly fetched token.
 */
export async function requestJson(method: Method, path: string, body?: unknown): Promise<unknown> {
  let res = await send(method, path, body);
  if (!res.ok && res.status === 403 && method !== 'GET') {
    const error = await toApiError(res.clone());
    if (error.code === 'csrf') {
      await getSession();
      res = await send(method, path, body);
    }
  }
  if (!res.ok) {
    const error = await toApiError(res);
    if (error.code === 'unauthenticated' && onUnauthenticated) onUnauthenticated(error);
    throw error;
  }
  if (res.status === 204) return undefined;
  const text = await res.text();
  if (text === '') return undefined;
  const data: unknown = JSON.parse(text);
  if (isSessionInfo(data)) csrfToken = data.csrfToken;
  else if (typeof data === 'object' && data !== null && 'session' in data) {
    const session = (data as { session: unknown }).session;
    if (isSessionInfo(session)) csrfToken = session.csrfToken;
  }
  return data;
}

/** `GET /api/session` — always 200; also refreshes the CSRF token. */
export async function getSession(): Promise<SessionInfo> {
  const res = await send('GET', '/api/session', undefined);
  if (!res.ok) throw await toApiError(res);
  const session = SessionInfoSchema.parse(await res.json());
  csrfToken = session.csrfToken;
  return session;
}
