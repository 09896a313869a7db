/**
 * The open-alert count for the navigation and the dashboard: fetched once per mount, again
 * every minute and right after this tab acknowledged or resolved an alert (`alertsChanged`).
 */
import { useEffect, useState } from 'react';
import { alertsContract as c } from '../../../../src/features/alerts/contract.ts';
import { call } from '../../client.ts';
import { useApp } from '../../context.tsx';
import { useMessages } from '../../messages.ts';
import { Link } from '../../router.tsx';
import { alertsMessages } from './messages.ts';

const REFRESH_MS = 60_000;
const listeners = new Set<() => void>();

/** Tells every count on the page to load again (after a transition in this tab). */
export function alertsChanged(): void {
  for (const listener of listeners) listener();
}

/** The number of open alerts the user may see; undefined until known or without the right. */
export function useOpenAlerts(): number | undefined {
  const { can } = useApp();
  const allowed = can('alerts.read');
  const [open, setOpen] = useState<number | undefined>(undefined);
  useEffect(() => {
    if (!allowed) return;
    let alive = true;
    const load = () => {
      call(c.summary).then(
        (s) => alive && setOpen(s.open),
        () => {},
      );
    };
    load();
    listeners.add(load);
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      alive = false;
      listeners.delete(load);
      clearInterval(timer);
    };
  }, [allowed]);
  return allowed ? open : undefined;
}

/** A small count beside the navigation's "Alerts" (nothing when none are open). */
export function NavAlertsBadge() {
  const t = useMessages(alertsMessages);
  const open = useOpenAlerts();
  if (!open) return null;
  return (
    <span className="nav-count" data-testid="nav-alerts-count" data-count={open}>
      <span aria-hidden="true">{open}</span>
      <span className="sr-only">{t('navCount', { n: open })}</span>
    </span>
  );
}

/** The dashboard's link to the inbox with the open count. */
export function DashboardAlertsLink() {
  const t = useMessages(alertsMessages);
  const open = useOpenAlerts();
  if (open === undefined) return null;
  return (
    <Link
      to="/alerts"
      data-testid="dashboard-alerts-count"
      className={open > 0 ? 'alert-count' : undefined}
    >
      {open > 0 ? t('dashboard.open', { n: open }) : t('dashboard.none')}
    </Link>
  );
}
