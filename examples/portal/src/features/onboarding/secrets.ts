/**
 * The partner's webhook signing secret, sealed under the portal's keyring for its tenant (the
 * database never holds it in clear).
 */
import { fromText, open, seal, toText } from '@fluxel/crypto';
import type { Context } from '../../server/context.ts';

const sealContext = (tenantId: string) => ({ tenant: tenantId, field: 'onboarding-webhook' });

export async function sealWebhookSecret(
  ctx: Context,
  tenantId: string,
  secret: string,
): Promise<string> {
  return toText(
    await seal(new TextEncoder().encode(secret), {
      keyring: ctx.keyring,
      context: sealContext(tenantId),
    }),
  );
}

export async function openWebhookSecret(
  ctx: Context,
  tenantId: string,
  sealed: string,
): Promise<string> {
  return new TextDecoder().decode(
    await open(fromText(sealed), { keyring: ctx.keyring, context: sealContext(tenantId) }),
  );
}
