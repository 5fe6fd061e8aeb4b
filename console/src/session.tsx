import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { api, ApiError, onSessionExpired, type Me } from './api';

export type SessionState =
  | { status: 'loading' }
  | { status: 'signed-out'; notice?: string }
  | { status: 'signed-in'; me: Me };

interface SessionApi {
  state: SessionState;
  signIn(username: string, password: string): Promise<void>;
  signOut(): Promise<void>;
  refresh(): Promise<void>;
}

const SessionContext = createContext<SessionApi | null>(null);

export const SESSION_EXPIRED_NOTICE = 'Your session has expired. Sign in again to continue.';

/** Who is signed in, from GET /api/v1/identity/my; a 401 anywhere ends the session with a notice. */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>({ status: 'loading' });
  const queries = useQueryClient();

  const load = useCallback(async (notice?: string) => {
    try {
      const me = await api<Me>('identity/my', { expect401: true });
      setState({ status: 'signed-in', me });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) setState({ status: 'signed-out', notice });
      else setState({ status: 'signed-out', notice: error instanceof Error ? error.message : String(error) });
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  useEffect(
    () =>
      onSessionExpired(() => {
        queries.clear();
        setState((current) => (current.status === 'signed-in' ? { status: 'signed-out', notice: SESSION_EXPIRED_NOTICE } : current));
      }),
    [queries],
  );

  const value = useMemo<SessionApi>(
    () => ({
      state,
      async signIn(username, password) {
        await api('signin', { method: 'POST', body: { username, password }, expect401: true });
        queries.clear();
        await load();
      },
      async signOut() {
        try {
          await api('signout', { method: 'POST', expect401: true });
        } finally {
          queries.clear();
          setState({ status: 'signed-out', notice: 'You have signed out.' });
        }
      },
      refresh: () => load(),
    }),
    [state, load, queries],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionApi {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}

/** The signed-in identity; only inside pages, which render only when signed in. */
export function useMe(): Me {
  const { state } = useSession();
  if (state.status !== 'signed-in') throw new Error('useMe while signed out');
  return state.me;
}
