/**
 * Status page: components, maintenance windows, security notes; JSON for monitors.
 * (Placeholder: filled in by the portal part 2 work.)
 */
import type { FastifyInstance } from 'fastify';
import type { Context } from '../context.ts';

export function statusRoutes(_app: FastifyInstance, _ctx: Context): void {}
