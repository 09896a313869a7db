/** The webhook secret check is a domain rule: it throws a typed error, not an HTTP problem. */
import { describe, expect, it } from 'vitest';
import { HttpProblem } from '../src/problem.ts';
import { requireWebhookSecret, WebhookSecretInvalidError } from '../src/webhooks.ts';

describe('requireWebhookSecret', () => {
  it('an unusable secret throws WebhookSecretInvalidError (no HTTP in the domain; http.ts answers 400 ERR_WEBHOOK_SECRET_INVALID), never echoing the secret', () => {
    const secret = 'whsec_dG9vLXNob3J0';
    let thrown: unknown;
    try {
      requireWebhookSecret(secret);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(WebhookSecretInvalidError);
    expect(thrown).not.toBeInstanceOf(HttpProblem);
    const error = thrown as WebhookSecretInvalidError;
    expect(error.code).toBe('ERR_WEBHOOK_SECRET_INVALID');
    expect(`${error.message} ${error.detail}`).not.toContain('dG9vLXNob3J0');
    expect(() =>
      requireWebhookSecret(`whsec_${Buffer.alloc(32, 7).toString('base64')}`),
    ).not.toThrow();
  });
});
