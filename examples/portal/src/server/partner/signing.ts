/**
 * Standard Webhooks (https://www.standardwebhooks.com/) for partner deliveries and the
 * sandbox's inbound webhooks: the kit's one implementation (`@fluxel-example/kit/webhooks`)
 * under the names the portal's features import. `verifyWebhook` is what a partner runs; the
 * tests use it.
 */
export {
  newWebhookSecret,
  signWebhook as signWebhookPayload,
  verifyWebhook,
  WEBHOOK_TOLERANCE_SECONDS as WEBHOOK_TOLERANCE_S,
  type WebhookCheck as VerifyResult,
  webhookHeaders,
} from '@fluxel-example/kit/webhooks';
