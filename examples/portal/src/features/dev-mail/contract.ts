/**
 * The dev start's mail viewer as data: what the local SMTP sink received, newest first. The
 * route exists only in the dev start (`src/server/dev.ts`); a production portal answers 404.
 * No sign-in: invitations, resets and e-mail codes are read by people not signed in yet.
 */
import { z } from 'zod';
import { route } from '../../shared/contract.ts';

/** One mail as the sink received it. */
export const DevMailSchema = z.object({
  /** Its position in the sink (0 = the first mail since the start). */
  id: z.number(),
  to: z.array(z.string()),
  subject: z.string(),
  /** ISO time the sink received it. */
  receivedAt: z.string(),
  /** The text/plain part (the portal's mails all have one). */
  text: z.string(),
});
export type DevMail = z.infer<typeof DevMailSchema>;

export const DevMailListSchema = z.object({
  mails: z.array(DevMailSchema),
  /** Whether older mails were left out (see `DEV_MAIL_LIMIT`). */
  truncated: z.boolean(),
});
export type DevMailList = z.infer<typeof DevMailListSchema>;

export const devMailContract = {
  list: route({
    method: 'GET',
    path: '/api/dev/mails',
    access: 'public',
    response: DevMailListSchema,
  }),
} as const;
