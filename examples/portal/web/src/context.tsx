/** What every page needs: the session, the signed-in user, translation, re-authentication. */
import { createContext, useContext } from 'react';
import type { Locale, Me, SessionInfo } from '../../src/shared/api.ts';
import type { Permission } from '../../src/shared/permissions.ts';
import type { Translate } from './i18n.ts';

export interface AppContextValue {
  readonly session: SessionInfo;
  /** The user (stages `enrol` and `full`). */
  readonly me: Me | undefined;
  readonly locale: Locale;
  readonly t: Translate;
  /** Switches the language (and stores it in the profile when signed in). */
  setLocale(locale: Locale): void;
  /** Takes a new `SessionInfo` from a sign-in step. */
  setSession(session: SessionInfo): void;
  /** Replaces the signed-in user (after a profile change). */
  setMe(me: Me): void;
  /** Fetches `GET /api/session` again. */
  reload(): Promise<SessionInfo>;
  /** Runs `action`; on 403 `reauth_required` asks for password + code, then runs it once more. */
  withReauth<T>(action: () => Promise<T>): Promise<T>;
  can(permission: Permission): boolean;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error('useApp outside <AppContext>');
  return value;
}

/** The signed-in user; only for pages behind the `full` stage. */
export function useMe(): Me {
  const { me } = useApp();
  if (!me) throw new Error('useMe without a signed-in user');
  return me;
}
