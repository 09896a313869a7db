/**
 * The privacy API's request bodies (strict zod) and response shapes. Only zod here, so the web
 * app imports it too (it belongs in `src/shared/api.ts` once that file is free to change).
 */
import { z } from 'zod';

export const consentBody = z
  .object({
    purpose: z.string().min(1).max(60),
    version: z.string().min(1).max(40),
    granted: z.boolean(),
  })
  .strict();
export type ConsentBody = z.output<typeof consentBody>;

export const cancelErasureBody = z.object({ token: z.string().min(20).max(100) }).strict();

export interface PurposeText {
  readonly de: string;
  readonly en: string;
}

export interface ConsentState {
  readonly purpose: string;
  /** The current version of the purpose's text. */
  readonly version: string;
  readonly title: PurposeText;
  readonly text: PurposeText;
  readonly granted: boolean;
  /** The version the user last decided on (a consent to an older text no longer counts). */
  readonly decidedVersion?: string;
  readonly decidedAt?: string;
}

export interface ConsentRecord {
  readonly purpose: string;
  readonly version: string;
  readonly granted: boolean;
  readonly at: string;
  readonly source: 'web' | 'api' | 'admin';
}

export interface ConsentList {
  readonly consents: readonly ConsentState[];
  readonly history: readonly ConsentRecord[];
}

export interface ErasureStatus {
  readonly userId: string;
  readonly state: 'none' | 'scheduled' | 'cancelled' | 'erasing' | 'done';
  readonly requestedAt?: string;
  readonly dueAt?: string;
  readonly graceDays?: number;
}

export interface ErasureRow {
  readonly userId: string;
  readonly email: string;
  readonly name: string;
  readonly tenantId: string;
  readonly requestedAt: string;
  readonly dueAt: string;
  readonly requestedBy: 'self' | 'admin';
}
