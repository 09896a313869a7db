/**
 * The portal's first administrator on the stack under `pnpm test:swarm`, as a person lives it:
 * the invitation arrives by mail (mail-sink.ts wrote it to `--mail-dir`), the link is opened,
 * a name and password are set and TOTP is enrolled (the authenticator's code computed from
 * the secret the portal showed), then a fresh browser session signs in with the password and
 * a TOTP code and sees itself as administrator. Over HTTPS through the balancer, verified
 * against the customer's internal CA, with the Origin header and CSRF token the web app sends.
 *
 *   node --import tsx swarm/portal-signin.ts --portal https://localhost:18543 --ca <CA file>
 *     --mail-dir <dir> --customer alpha
 *
 * Prints one JSON line with the figures and exits 1 on the first failed expectation.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PortalClient } from '../src/portal-client.ts';
import { printResult, required } from './script.ts';

const { values } = parseArgs({
  options: {
    portal: { type: 'string' },
    ca: { type: 'string' },
    'mail-dir': { type: 'string' },
    customer: { type: 'string' },
  },
});
const need = (name: keyof typeof values): string => required(values, name);

interface StoredMail {
  readonly to: string[];
  readonly subject: string;
  readonly text: string;
  readonly user: string | null;
}

/** The customer's first mail whose text carries an invitation link, waited for up to `ms`. */
async function invitation(dir: string, customer: string, ms: number) {
  const deadline = Date.now() + ms;
  for (;;) {
    const files = existsSync(dir)
      ? readdirSync(dir).filter((f) => f.startsWith(`${customer}-`))
      : [];
    for (const f of files) {
      const mail = JSON.parse(readFileSync(join(dir, f), 'utf8')) as StoredMail;
      const link = /https:\/\/\S+\/invite\/([A-Za-z0-9_-]+)/.exec(mail.text);
      if (link) return { mail, link: link[0], token: link[1] as string };
    }
    if (Date.now() >= deadline)
      throw new Error(`no invitation mail for ${customer} in ${dir} after ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function main(): Promise<Record<string, unknown>> {
  const origin = need('portal');
  const ca = readFileSync(need('ca'), 'utf8');
  const { mail, link, token } = await invitation(need('mail-dir'), need('customer'), 60_000);
  const [email] = mail.to;
  if (!email) throw new Error('the invitation mail has no recipient');
  if (!link.startsWith(`${origin}/invite/`))
    throw new Error(`the invitation links to ${link}, not to ${origin}/invite/…`);
  const password = `${randomBytes(18).toString('base64url')}-Aa1`;

  const setup = new PortalClient(origin, ca);
  const enrolStarted = Date.now();
  let secret: string;
  try {
    ({ secret } = await setup.acceptInvitation(token, 'Erste Administratorin', password));
  } finally {
    await setup.close();
  }
  const enrolMs = Date.now() - enrolStarted;

  const browser = new PortalClient(origin, ca);
  try {
    const signInStarted = Date.now();
    const signedIn = await browser.signIn(email, password, secret);
    const signInMs = Date.now() - signInStarted;
    if (signedIn.status !== 200)
      throw new Error(`sign-in with password and TOTP answered ${signedIn.status}`);
    const session = await browser.get<{
      stage?: string;
      user?: { email?: string; role?: string };
    }>('/api/session');
    const { stage, user } = session.body;
    if (stage !== 'full' || user?.email !== email || user?.role !== 'administrator')
      throw new Error(`the session after sign-in is ${stage} ${JSON.stringify(user ?? null)}`);
    // A wrong code is refused (the second factor is really checked).
    const other = new PortalClient(origin, ca);
    try {
      await other.get('/api/session');
      const first = await other.post('/api/auth/login', { email, password });
      const wrong = await other.post('/api/auth/second-factor', { method: 'totp', code: '000000' });
      if (first.status !== 200 || wrong.status === 200)
        throw new Error(`password ${first.status}, wrong TOTP code ${wrong.status}`);
    } finally {
      await other.close();
    }
    return { email, mailedBy: mail.user, enrolMs, signInMs };
  } finally {
    await browser.close();
  }
}

await printResult(main);
