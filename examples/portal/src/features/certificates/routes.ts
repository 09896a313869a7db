/**
 * Certificates: the portal's own TLS certificate through ACME (HTTP-01) — settings (public
 * server address, contact e-mail, ACME directory), order with progress, show, delete,
 * evaluate; installed without a restart (hot reload) and renewed by the renewal manager.
 * Administrators only (`certificates.manage`); every change is audited.
 *
 * - `GET    /api/certificates`              overview: settings, TLS state, served certificate, last order
 * - `PUT    /api/certificates/settings`     `{ address, email, directory }`
 * - `POST   /api/certificates/order`        starts an order in the background → `202 { id }`
 * - `GET    /api/certificates/order/:id`    `{ state: pending|validating|issuing|installed|failed, message? }`
 * - `GET    /api/certificates/current`      subject, SANs, issuer, validity, days left, serial, files
 * - `DELETE /api/certificates/current`      back to the development certificate
 * - `POST   /api/certificates/evaluate`     HTTPS check of `https://<address>`
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Context, OPERATOR_TENANT, type Principal, record } from '../../server/context.ts';
import { fail } from '../../server/http.ts';
import { serveAll } from '../../server/route.ts';
import { type CertificatesConfig, certificatesConfig, checkAddress } from './config.ts';
import { certificatesContract } from './contract.ts';
import { CertificateService, OrderConflict } from './service.ts';

/**
 * `overrides` (optional) win over the environment (`PORTAL_ACME_DIRECTORY`, `PORTAL_ACME_CA`,
 * `PORTAL_HTTP01_PORT`, … — see `config.ts`), which is read at each use.
 */
export function certificatesRoutes(
  app: FastifyInstance,
  ctx: Context,
  overrides: Partial<CertificatesConfig> = {},
): void {
  const service = new CertificateService(ctx, () => ({ ...certificatesConfig(), ...overrides }));

  app.addHook('onReady', async () => {
    try {
      await service.start();
    } catch (error) {
      app.log.error(
        { err: { message: (error as Error).message } },
        'certificates: could not install the stored certificate',
      );
    }
  });
  app.addHook('onClose', async () => {
    await service.close();
  });

  const audit = (
    req: FastifyRequest,
    p: Principal,
    action: string,
    extra: {
      outcome?: 'success' | 'failure';
      target?: { type: string; id: string };
      reason?: string;
      data?: Record<string, unknown>;
    } = {},
  ) =>
    record(ctx, req, {
      tenant: OPERATOR_TENANT,
      actor: { type: 'user', id: p.user.id },
      action,
      outcome: extra.outcome ?? 'success',
      ...(extra.target ? { target: extra.target } : {}),
      ...(extra.reason ? { reason: extra.reason } : {}),
      ...(extra.data ? { data: extra.data } : {}),
    });

  serveAll(app, ctx, certificatesContract, {
    overview: async () => service.overview(),
    saveSettings: async ({ req, principal, body }) => {
      let address = '';
      if (body.address.trim() !== '') {
        const checked = checkAddress(body.address);
        if (!checked.ok)
          return fail(400, 'bad_request', 'the request is not valid', {
            fields: [{ path: 'address', message: checked.reason }],
          });
        address = checked.name;
      }
      if (!service.directoryUrl(body.directory))
        return fail(400, 'bad_request', 'the request is not valid', {
          fields: [{ path: 'directory', message: 'this ACME directory is not configured' }],
        });
      const before = await service.settings();
      await service.saveSettings(
        { address, email: body.email, directory: body.directory },
        principal.user.id,
      );
      await audit(req, principal, 'certificate.settings.changed', {
        data: {
          address,
          directory: body.directory,
          emailChanged: before.email !== body.email,
          ...(before.address !== address ? { previousAddress: before.address } : {}),
        },
      });
      return service.overview();
    },
    order: async ({ req, reply, principal }) => {
      try {
        const order = await service.startOrder(principal.user.id);
        await audit(req, principal, 'certificate.order.started', {
          target: { type: 'certificate-order', id: order.id },
          data: { domain: order.domain },
        });
        void reply.code(202);
        return { id: order.id, domain: order.domain, state: 'pending' as const };
      } catch (error) {
        if (error instanceof OrderConflict)
          return fail(409, 'conflict', 'the certificate cannot be ordered now', {
            detail: error.message,
          });
        throw error;
      }
    },
    orderState: async ({ params }) => {
      const order = await service.order(params.id.slice(0, 100));
      if (!order) return fail(404, 'not_found', 'not found');
      return order;
    },
    current: async () => service.current(),
    deleteCurrent: async ({ req, principal }) => {
      try {
        const result = await service.deleteCurrent();
        if (!result.deleted) return fail(404, 'not_found', 'no ACME certificate is installed');
        await audit(req, principal, 'certificate.deleted', {
          ...(result.orderId ? { target: { type: 'certificate', id: result.orderId } } : {}),
          ...(result.domain ? { data: { domain: result.domain } } : {}),
        });
        return service.overview();
      } catch (error) {
        if (error instanceof OrderConflict)
          return fail(409, 'conflict', 'an order is running', { detail: error.message });
        throw error;
      }
    },
    evaluate: async ({ req, principal }) => {
      const result = await service.evaluate();
      await audit(req, principal, 'certificate.evaluated', {
        outcome: result.ok ? 'success' : 'failure',
        ...(result.ok ? {} : { reason: result.reason.slice(0, 500) }),
        data: { url: result.url, code: result.code },
      });
      return result;
    },
  });
}
