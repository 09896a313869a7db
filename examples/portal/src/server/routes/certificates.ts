/**
 * Certificates: ACME order, renew, show, delete, evaluate for the portal's own TLS, hot reload.
 * (Placeholder: filled in by the portal part 2 work.)
 */
import type { FastifyInstance } from 'fastify';
import type { Context } from '../context.ts';

export function certificatesRoutes(_app: FastifyInstance, _ctx: Context): void {}
