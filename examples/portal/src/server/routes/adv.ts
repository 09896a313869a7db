/**
 * ADV / DPA: versioned agreement, digital acceptance, PDF, re-acceptance; processing register (Verarbeitungsverzeichnis).
 * (Placeholder: filled in by the portal part 2 work.)
 */
import type { FastifyInstance } from 'fastify';
import type { Context } from '../context.ts';

export function advRoutes(_app: FastifyInstance, _ctx: Context): void {}
