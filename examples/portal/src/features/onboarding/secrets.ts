/**
 * The partner's webhook signing secret, sealed under the portal's keyring for its tenant (the
 * database never holds it in clear).
 */
import { openText, sealText } from '@fluxel/crypto';
import type { Context } from '../../server/context.ts';

const sealContext = (tenantId: string) => ({ tenant: tenantId, field: 'onboarding-webhook' });

export function sealWebhookSecret(ctx: Context, tenantId: string, secret: string): Promise<string> {
  return sealText(secret, { keyring: ctx.keyring, context: sealContext(tenantId) });
}

export function openWebhookSecret(ctx: Context, tenantId: string, sealed: string): Promise<string> {
  return openText(sealed, { keyring: ctx.keyring, context: sealContext(tenantId) });
}
