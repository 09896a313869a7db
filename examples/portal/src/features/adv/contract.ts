/**
 * The ADV/DPA and processing-register API contract: request bodies and the register's schema
 * (zod), and the answer types. Pure (zod only), so the web app can import the types.
 */
import { z } from 'zod';
import { file, route } from '../../shared/contract.ts';

/** A version id: `1.0`, `2025-06`, … (used in file names and URLs). */
export const ADV_VERSION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD');

export const advLocale = z.enum(['de', 'en']);
export type AdvLocale = z.infer<typeof advLocale>;

export const acceptBody = z
  .object({
    version: z.string().regex(ADV_VERSION_ID),
    /** The language the text was shown in; default the user's language. */
    locale: advLocale.optional(),
    /** SHA-256 (hex) of the text the user saw; when given it must match the current text. */
    textSha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
  })
  .strict();
export type AcceptBody = z.output<typeof acceptBody>;

export const publishBody = z
  .object({
    id: z.string().regex(ADV_VERSION_ID, 'letters, digits, . _ - (at most 32)'),
    textDe: z.string().trim().min(100).max(200_000),
    textEn: z.string().trim().min(100).max(200_000),
  })
  .strict();
export type PublishBody = z.output<typeof publishBody>;

// ------------------------------------------------------------------ agreement versions (files)

export const advIndexSchema = z
  .object({
    $comment: z.string().optional(),
    operator: z
      .object({
        name: z.string().min(1),
        address: z.string().min(1),
        email: z.string().optional(),
        phone: z.string().optional(),
      })
      .strict(),
    versions: z
      .array(
        z
          .object({
            id: z.string().regex(ADV_VERSION_ID),
            publishedAt: isoDate,
            de: z.string().regex(/^[A-Za-z0-9._-]+\.md$/),
            en: z.string().regex(/^[A-Za-z0-9._-]+\.md$/),
          })
          .strict(),
      )
      .min(1),
  })
  .strict()
  .refine((index) => new Set(index.versions.map((v) => v.id)).size === index.versions.length, {
    message: 'version ids must be unique',
  });
export type AdvIndex = z.infer<typeof advIndexSchema>;

// ------------------------------------------------------------------ processing register

const localized = z.object({ de: z.string().min(1), en: z.string().min(1) }).strict();
export type Localized = z.infer<typeof localized>;
const id = z.string().regex(/^[a-z0-9][a-z0-9-]{0,40}$/);

export const registerSchema = z
  .object({
    $comment: z.string().optional(),
    updatedAt: isoDate,
    controller: z
      .object({
        name: z.string().min(1),
        address: z.string().min(1),
        email: z.string().min(1),
        phone: z.string().optional(),
      })
      .strict(),
    activities: z
      .array(
        z
          .object({
            id,
            /** `processor`: on behalf of customers (Art. 30(2)); `controller`: our own (Art. 30(1)). */
            role: z.enum(['controller', 'processor']),
            name: localized,
            purpose: localized,
            legalBasis: localized,
            dataSubjects: z.array(localized).min(1),
            dataCategories: z.array(localized).min(1),
            recipients: z.array(id),
            thirdCountryTransfers: localized,
            retention: localized,
            measures: z.array(id).min(1),
          })
          .strict(),
      )
      .min(1),
    recipients: z.array(
      z
        .object({
          id,
          /** `processor`: engaged by the operator; `recipient`: chosen by the customer. */
          kind: z.enum(['processor', 'recipient']),
          name: localized,
          service: localized,
          location: localized,
          thirdCountry: z.boolean(),
          safeguards: localized.optional(),
        })
        .strict()
        .refine((r) => !r.thirdCountry || r.safeguards !== undefined, {
          message: 'a third-country recipient needs safeguards',
        }),
    ),
    measures: z.array(z.object({ id, area: localized, description: localized }).strict()).min(1),
  })
  .strict()
  .superRefine((register, check) => {
    const unique = (name: string, ids: string[]) => {
      if (new Set(ids).size !== ids.length)
        check.addIssue({ code: 'custom', path: [name], message: `${name} ids must be unique` });
    };
    unique(
      'activities',
      register.activities.map((a) => a.id),
    );
    unique(
      'recipients',
      register.recipients.map((r) => r.id),
    );
    unique(
      'measures',
      register.measures.map((m) => m.id),
    );
    const recipients = new Set(register.recipients.map((r) => r.id));
    const measures = new Set(register.measures.map((m) => m.id));
    register.activities.forEach((activity, i) => {
      for (const r of activity.recipients)
        if (!recipients.has(r))
          check.addIssue({
            code: 'custom',
            path: ['activities', i, 'recipients'],
            message: `unknown recipient ${r}`,
          });
      for (const m of activity.measures)
        if (!measures.has(m))
          check.addIssue({
            code: 'custom',
            path: ['activities', i, 'measures'],
            message: `unknown measure ${m}`,
          });
    });
  });
export type ProcessingRegister = z.infer<typeof registerSchema>;

// ------------------------------------------------------------------ answers

export const AdvVersionInfoSchema = z.object({
  id: z.string(),
  publishedAt: z.string(),
  /** `file`: shipped in `data/adv/`; `published`: published by an administrator (database). */
  source: z.enum(['file', 'published']),
});
export type AdvVersionInfo = z.infer<typeof AdvVersionInfoSchema>;

export const AdvAcceptanceSchema = z.object({
  id: z.string(),
  tenantId: z.string(),
  tenantName: z.string(),
  version: z.string(),
  /** The language of the text that was accepted. */
  locale: advLocale,
  textSha256: z.string(),
  acceptedAt: z.string(),
  acceptedBy: z.object({ id: z.string(), name: z.string() }),
  ip: z.string(),
  userAgent: z.string(),
});
export type AdvAcceptance = z.infer<typeof AdvAcceptanceSchema>;

export const AdvStateSchema = z.object({
  /** The current version with its text in the requested language (none published: absent). */
  current: AdvVersionInfoSchema.extend({
    locale: advLocale,
    text: z.string(),
    sha256: z.string(),
  }).optional(),
  versions: z.array(AdvVersionInfoSchema),
  tenant: z.object({ id: z.string(), name: z.string(), kind: z.string() }),
  operator: z.object({ name: z.string(), address: z.string() }),
  /** The tenant's latest acceptance (of any version). */
  acceptance: AdvAcceptanceSchema.optional(),
  /** The tenant has not accepted the current version (never for the operator itself). */
  needsAcceptance: z.boolean(),
  history: z.array(AdvAcceptanceSchema),
});
export type AdvState = z.infer<typeof AdvStateSchema>;

export const AdvStatusSchema = z.object({
  needsAcceptance: z.boolean(),
  currentVersion: z.string().optional(),
  acceptedVersion: z.string().optional(),
});
export type AdvStatus = z.infer<typeof AdvStatusSchema>;

export const AdvTenantRowSchema = z.object({
  tenantId: z.string(),
  tenantName: z.string(),
  kind: z.string(),
  acceptance: AdvAcceptanceSchema.optional(),
  needsAcceptance: z.boolean(),
});
export type AdvTenantRow = z.infer<typeof AdvTenantRowSchema>;

/** `POST /api/adv/accept`: the acceptance, and whether it is new (201) or was there (200). */
export const AcceptedSchema = z.object({ acceptance: AdvAcceptanceSchema, created: z.boolean() });

/** `POST /api/adv/versions`: the new version and how many people were mailed. */
export const PublishedSchema = z.object({ version: AdvVersionInfoSchema, notified: z.number() });

// ------------------------------------------------------------------ routes

export const advContract = {
  /** The current version (text in `locale`, default the user's language) and the tenant's state. */
  state: route({
    method: 'GET',
    path: '/api/adv',
    access: 'session',
    // An unknown language falls back to the user's own rather than failing the page.
    query: z.object({ locale: advLocale.optional().catch(undefined) }),
    response: AdvStateSchema,
  }),
  /** The few fields a banner needs (dashboard): no agreement text. */
  status: route({
    method: 'GET',
    path: '/api/adv/status',
    access: 'session',
    response: AdvStatusSchema,
  }),
  /** Accepts the current version: 201 when new, 200 with the existing record when accepted. */
  accept: route({
    method: 'POST',
    path: '/api/adv/accept',
    access: 'adv.accept',
    body: acceptBody,
    response: AcceptedSchema,
  }),
  /** The PDF of an acceptance (users of its tenant and administrators; 404 otherwise). */
  pdf: route({
    method: 'GET',
    path: '/api/adv/acceptances/:id/pdf',
    access: 'session',
    response: file(),
  }),
  acceptances: route({
    method: 'GET',
    path: '/api/adv/acceptances',
    access: 'session',
    response: z.object({ acceptances: z.array(AdvAcceptanceSchema) }),
  }),
  tenants: route({
    method: 'GET',
    path: '/api/adv/tenants',
    access: 'adv.publish',
    response: z.object({ tenants: z.array(AdvTenantRowSchema) }),
  }),
  /** Publishes a new version at once (re-authentication first); answers 201. */
  publish: route({
    method: 'POST',
    path: '/api/adv/versions',
    access: 'adv.publish',
    body: publishBody,
    response: PublishedSchema,
  }),
  /** The processing register (Verarbeitungsverzeichnis). */
  register: route({
    method: 'GET',
    path: '/api/register',
    access: 'register.read',
    response: registerSchema,
  }),
} as const;
