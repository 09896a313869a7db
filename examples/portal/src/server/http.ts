/**
 * HTTP plumbing shared by every route: problem+json errors with stable codes, strict body
 * parsing, security headers, and the CSRF check (Origin / Sec-Fetch-Site plus a per-session
 * token) for every state-changing request.
 */
import { Problem as RealmProblem } from '@fluxel-example/kit/problem';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { TARGET_REFUSALS } from '../features/partner/ssrf.ts';
import {
  type ErrorCode,
  FIELD_REASONS,
  type FieldProblem,
  type FieldReason,
  type PartnerApiErrorCode,
  type Problem,
  type ProblemCode,
} from '../shared/api.ts';

/** A refused field as a route names it; without `reason` it is derived from the message. */
export interface FieldInput {
  readonly path: string;
  readonly message: string;
  readonly reason?: FieldReason | undefined;
}

export type ProblemExtra = Partial<Pick<Problem, 'detail' | 'retryAfter'>> & {
  readonly fields?: readonly FieldInput[];
};

const isFieldReason = (value: unknown): value is FieldReason =>
  typeof value === 'string' && (FIELD_REASONS as readonly string[]).includes(value);

/**
 * Reasons for the English messages routes pass by hand (the SSRF check's, the certificate
 * address check's, a few one-off refusals), so every field a client sees carries a reason
 * even where the route predates reason codes. Unknown texts become `invalid`.
 */
const MESSAGE_REASONS: Readonly<Record<string, FieldReason>> = {
  ...TARGET_REFUSALS,
  empty: 'required',
  'too long': 'too_long',
  'only the host name, without scheme or port': 'host_name_only',
  'only the host name, without path': 'host_name_only',
  'only the host name, without port': 'host_name_only',
  'no trailing dot': 'host_name_only',
  'an IP address is not enough; a domain name is needed': 'domain_name_required',
  'wildcards are not possible with HTTP-01': 'domain_name_required',
  'this ACME directory is not configured': 'not_configured',
  'not available for this tenant': 'not_allowed',
  'unknown purpose': 'invalid_choice',
};

export function reasonForMessage(message: string): FieldReason {
  if (Object.hasOwn(MESSAGE_REASONS, message)) return MESSAGE_REASONS[message] as FieldReason;
  if (/^not available in an? \w+ tenant$/.test(message)) return 'not_allowed';
  if (/^at most \d+ characters$/.test(message)) return 'too_long';
  return 'invalid';
}

/** The password policy's reasons (`checkPasswordPolicy`) as field reasons. */
const WEAK_PASSWORD_REASONS: Readonly<Record<string, FieldReason>> = {
  too_short: 'weak_password_too_short',
  too_long: 'weak_password_too_long',
  common: 'weak_password_common',
  contains_identity: 'weak_password_contains_identity',
};

/** Every field gets its stable reason. */
function withReasons(extra: ProblemExtra): Problem['fields'] {
  return extra.fields?.map((f) => ({
    path: f.path,
    reason: f.reason ?? reasonForMessage(f.message),
    message: f.message,
  }));
}

type PortalMembers = Partial<Pick<Problem, 'detail' | 'retryAfter' | 'fields'>> & {
  readonly code: ProblemCode;
};

/** The realms of the portal's problems, each with the codes it answers with. */
interface RealmCodes {
  /** The portal's web API, and the codes the partner API shares with it. */
  readonly portal: ErrorCode;
  /** Codes only the partner machine API answers with (bearer tokens, webhook signatures). */
  readonly 'partner-api': PartnerApiErrorCode;
}
export type PortalRealm = keyof RealmCodes;

/**
 * A problem of the portal (`…/problems/portal/<code>`) or of the partner machine API
 * (`…/problems/partner-api/<code>`); the caller names the realm, and the type allows only that
 * realm's codes. Every field carries its reason.
 */
export class PortalProblem<
  R extends PortalRealm = PortalRealm,
> extends RealmProblem<PortalMembers> {
  constructor(
    realm: R,
    status: number,
    code: RealmCodes[R],
    title: string,
    extra: ProblemExtra = {},
  ) {
    const { fields: _raw, ...rest } = extra;
    const fields = withReasons(extra);
    super(realm, status, title, { ...rest, code, ...(fields ? { fields } : {}) });
    this.name = 'PortalProblem';
  }

  get code(): ProblemCode {
    return this.extra.code;
  }
}

/** Refuses with a problem of the portal's realm (the partner API's shared codes too). */
export const fail = (
  status: number,
  code: ErrorCode,
  title: string,
  extra: ProblemExtra = {},
): never => {
  throw new PortalProblem('portal', status, code, title, extra);
};

/** Refuses with one of the partner machine API's own codes, in its realm. */
export const failPartnerApi = (
  status: number,
  code: PartnerApiErrorCode,
  title: string,
  extra: ProblemExtra = {},
): never => {
  throw new PortalProblem('partner-api', status, code, title, extra);
};

/**
 * A password the policy refused (sign-up, reset, change): `weak_password` with the policy's
 * reason in `detail` and on the `password` field, so clients read one shape for every refused
 * input.
 */
export const failWeakPassword = (reason: string): never =>
  fail(400, 'weak_password', 'choose a different password', {
    detail: reason,
    fields: [
      { path: 'password', reason: WEAK_PASSWORD_REASONS[reason] ?? 'invalid', message: reason },
    ],
  });

/** The value at `path` in `root` (undefined when any step is missing). */
function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let at = root;
  for (const key of path) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<PropertyKey, unknown>)[key];
  }
  return at;
}

/**
 * The stable reason of one zod issue. Refinements name theirs with `params: { reason }`;
 * everything else follows from the issue's code and its bounds or format.
 */
export function reasonForIssue(issue: z.core.$ZodIssue, input: unknown): FieldReason {
  switch (issue.code) {
    case 'invalid_type':
      return valueAt(input, issue.path) === undefined ? 'required' : 'invalid_type';
    case 'too_small':
      if (issue.origin === 'string' || issue.origin === 'array' || issue.origin === 'set')
        return Number(issue.minimum) <= 1 ? 'required' : 'too_short';
      return 'out_of_range';
    case 'too_big':
      if (issue.origin === 'string' || issue.origin === 'array' || issue.origin === 'set')
        return 'too_long';
      return 'out_of_range';
    case 'invalid_format':
      if (issue.format === 'email') return 'invalid_email';
      if (issue.format === 'url') return 'invalid_url';
      if (issue.format === 'datetime' || issue.format === 'date' || issue.format === 'time')
        return 'invalid_time';
      return 'invalid_format';
    case 'invalid_value':
      return 'invalid_choice';
    case 'unrecognized_keys':
      return 'unknown_field';
    case 'not_multiple_of':
      return 'out_of_range';
    case 'custom':
      return isFieldReason(issue.params?.reason) ? issue.params.reason : 'invalid';
    default:
      return 'invalid';
  }
}

/** The refused fields of a zod failure (at most 20), each with its stable reason. */
export function fieldProblems(error: z.ZodError, input: unknown, root = '(body)'): FieldProblem[] {
  return error.issues.slice(0, 20).map((issue) => ({
    path: issue.path.map(String).join('.') || root,
    reason: reasonForIssue(issue, input),
    message: issue.message,
  }));
}

/** Parses with a strict zod schema; a failure is a 400 `bad_request` naming the fields. */
export function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const input = value ?? {};
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  return fail(400, 'bad_request', 'the request is not valid', {
    fields: fieldProblems(result.error, input),
  });
}

function sendProblem(reply: FastifyReply, problem: PortalProblem): void {
  if (problem.extra.retryAfter !== undefined)
    void reply.header('retry-after', String(Math.max(1, Math.ceil(problem.extra.retryAfter))));
  void reply
    .code(problem.status)
    .type('application/problem+json')
    .send(problem.document() satisfies Omit<Problem, 'code'> & { code: ProblemCode });
}

/** The Content-Security-Policy: no inline script or style, no framing, no plugins. */
export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export interface HttpOptions {
  /** The portal's own origin (`https://host:port`); state changes from elsewhere are refused. */
  readonly origin: () => string;
  /** The CSRF token of the request's session, if any. */
  readonly csrfToken: (req: FastifyRequest) => Promise<string | undefined>;
  /**
   * Whether the request names a session that has ended (its token can no longer match): such
   * a request is refused as `401 unauthenticated`, so the page asks to sign in again instead
   * of reporting a cross-site request.
   */
  readonly sessionEnded: (req: FastifyRequest) => Promise<boolean>;
  /** Extra headers for Vite's dev server (its HMR client needs a websocket and inline styles). */
  readonly devCsp?: string;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function installHttp(app: FastifyInstance, options: HttpOptions): void {
  app.addHook('onRequest', async (req, reply) => {
    void reply.headers({
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'content-security-policy': options.devCsp ?? CSP,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
    });
    if (req.url.startsWith('/api/')) void reply.header('cache-control', 'no-store');
    if (!STATE_CHANGING.has(req.method) || !req.url.startsWith('/api/')) return;
    // 1. The request must come from our own pages.
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin')
      return fail(403, 'csrf', 'cross-site request refused');
    const origin = req.headers.origin;
    if (origin !== options.origin()) return fail(403, 'csrf', 'cross-origin request refused');
    // 2. And carry the session's token (double submit through a header JS must set).
    const expected = await options.csrfToken(req);
    const presented = req.headers['x-csrf-token'];
    if (!expected || typeof presented !== 'string' || !constantEqual(presented, expected)) {
      if (await options.sessionEnded(req))
        return fail(401, 'unauthenticated', 'your session has ended; please sign in again');
      return fail(403, 'csrf', 'missing or wrong CSRF token');
    }
  });

  app.setErrorHandler((error: FastifyError | PortalProblem, req, reply) => {
    if (error instanceof PortalProblem) return sendProblem(reply, error);
    const status = (error as FastifyError).statusCode ?? 500;
    if (status === 413)
      return sendProblem(reply, new PortalProblem('portal', 413, 'bad_request', 'too large'));
    if (status >= 400 && status < 500)
      return sendProblem(
        reply,
        new PortalProblem('portal', status, 'bad_request', 'the request could not be read'),
      );
    req.log.error({ err: { message: error.message, name: error.name } }, 'unexpected error');
    return sendProblem(reply, new PortalProblem('portal', 500, 'internal', 'something went wrong'));
  });
  app.setNotFoundHandler((req, reply) => {
    sendProblem(
      reply,
      new PortalProblem('portal', 404, 'not_found', `no route ${req.method} ${req.url}`),
    );
  });
}

export function constantEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
