/**
 * The portal's partner event bus entry point. `partnerRoutes` attaches a hub to the context;
 * without one (partner feature not wired) emitting is a no-op. Emitting never throws into the
 * caller's request: failures go to the hub's error reporter.
 */
import type { Context } from '../../server/context.ts';
import type { PartnerEvent } from './contract.ts';
import type { PartnerHub } from './hub.ts';
import type { PartnerEventInput } from './model.ts';

const hubs = new WeakMap<Context, PartnerHub>();

export function attachHub(ctx: Context, hub: PartnerHub): void {
  hubs.set(ctx, hub);
}

export function detachHub(ctx: Context, hub: PartnerHub): void {
  if (hubs.get(ctx) === hub) hubs.delete(ctx);
}

export function hubOf(ctx: Context): PartnerHub | undefined {
  return hubs.get(ctx);
}

/**
 * Emits a partner event (metadata only: `data` keeps known id/state keys, see `sanitizeData`).
 * Resolves to the stored event, or undefined (no hub, duplicate source id, or an error).
 */
export async function emitPartnerEvent(
  ctx: Context,
  input: PartnerEventInput,
): Promise<PartnerEvent | undefined> {
  const hub = hubs.get(ctx);
  if (!hub) return undefined;
  try {
    return await hub.emit(input);
  } catch (error) {
    hub.options.onError?.(error, 'emit');
    return undefined;
  }
}

/**
 * For `manage.ts`: call after a successful lock / unlock (the relay's answer in hand), e.g.
 * `void licenseLockChanged(ctx, locked, 'locked')`.
 */
export function licenseLockChanged(
  ctx: Context,
  license: { readonly id: string; readonly tenant: string; readonly product?: string },
  change: 'locked' | 'unlocked',
): Promise<PartnerEvent | undefined> {
  return emitPartnerEvent(ctx, {
    type: change === 'locked' ? 'license.locked' : 'license.unlocked',
    tenant: license.tenant,
    data: {
      licenseId: license.id,
      ...(license.product ? { product: license.product } : {}),
      source: 'portal',
    },
  });
}
