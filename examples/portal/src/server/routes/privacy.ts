/**
 * GDPR: consent records, data export, erasure with grace period and crypto-shredding.
 * (Placeholder: filled in by the portal part 2 work.)
 */
import type { FastifyInstance } from 'fastify';
import type { Context } from '../context.ts';

export function privacyRoutes(_app: FastifyInstance, _ctx: Context): void {}
