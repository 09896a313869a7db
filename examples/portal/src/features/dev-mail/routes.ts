/**
 * The dev start's mail viewer (`src/server/dev.ts` wires it through `extraRoutes`; a production
 * portal never has it):
 *
 * - `GET /api/dev/mails` — what the local SMTP sink received, newest first (`DevMailList`).
 * - `GET /api/session` gains `devMail: true`, so the web app shows its demo banner with a link
 *   to the viewer page (`/dev/mails`); without this module the field is absent, and so is the
 *   banner.
 *
 * No sign-in: invitations, password resets and e-mail codes are read by people who are not
 * signed in yet, which is the point of the viewer. It holds one-time links, so it exists only
 * where the sink does — the dev start on loopback, whose console prints the same mails.
 */
import type { FastifyInstance } from 'fastify';
import type { Context } from '../../server/context.ts';
import { serveAll } from '../../server/route.ts';
import type { SessionInfo } from '../../shared/api.ts';
import { devMailContract } from './contract.ts';
import { type DevMailSource, listDevMails } from './service.ts';

/** Registers the viewer's API for `source` (for `PortalOptions.extraRoutes`). */
export function devMailRoutes(source: DevMailSource): (app: FastifyInstance, ctx: Context) => void {
  return (app, ctx) => {
    serveAll(app, ctx, devMailContract, { list: async () => listDevMails(source) });

    // The session answer is the web app's first request, so the flag costs a production
    // portal nothing (no probe of a route that is not there). Only GET /api/session: other
    // answers carrying a session (sign-in steps) replace the app's session, the flag stays.
    const extra: Pick<SessionInfo, 'devMail'> = { devMail: true };
    app.addHook('preSerialization', async (req, _reply, payload: unknown) =>
      req.method === 'GET' &&
      req.routeOptions.url === '/api/session' &&
      payload !== null &&
      typeof payload === 'object'
        ? { ...payload, ...extra }
        : payload,
    );
  };
}
