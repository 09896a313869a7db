/** Labels for values that come from the server (statuses, roles, outcomes). */
import type { Translate } from './i18n.ts';

export function statusLabel(t: Translate, status: string): string {
  switch (status) {
    case 'issued':
    case 'active':
    case 'locked':
    case 'expired':
      return t(`status.${status}`);
    default:
      return status;
  }
}

export function statusTone(status: string): 'ok' | 'warn' | 'bad' | 'neutral' {
  if (status === 'active') return 'ok';
  if (status === 'locked') return 'bad';
  if (status === 'expired') return 'warn';
  return 'neutral';
}
