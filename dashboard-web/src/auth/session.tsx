/**
 * Who is signed in. On load the refresh cookie is tried (POST /auth/refresh); a session is renewed
 * a minute before its token expires; a lost session (refresh refused) shows the sign-in page.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { bindSession, refreshSession, setAccessToken, signInRequest, signOutRequest, type Me, type Session } from '../api/client';

interface SessionState {
  /** undefined: still checking the cookie; null: signed out. */
  me: Me | null | undefined;
  signIn: (body: { email: string; password: string; tenant_id?: string }) => Promise<void>;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<SessionState | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const queries = useQueryClient();

  const adopt = useCallback((s: Session) => {
    setMe(s.user);
    clearTimeout(timer.current);
    // Renew a minute early (at least 10 s from now), so no call meets an expired token.
    const inMs = Math.max(10, s.expires_in - 60) * 1000;
    timer.current = setTimeout(() => {
      void refreshSession();
    }, inMs);
  }, []);

  const lost = useCallback(() => {
    clearTimeout(timer.current);
    setAccessToken(null);
    setMe(null);
    queries.clear();
  }, [queries]);

  useEffect(() => {
    bindSession({ session: adopt, signedOut: lost });
    void refreshSession().then((s) => {
      if (!s) setMe(null);
    });
    return () => clearTimeout(timer.current);
  }, [adopt, lost]);

  const value = useMemo<SessionState>(
    () => ({
      me,
      signIn: async (body) => {
        adopt(await signInRequest(body));
      },
      signOut: async () => {
        await signOutRequest();
        lost();
      },
    }),
    [me, adopt, lost],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

/** The signed-in user (only inside the signed-in part of the app). */
export function useMe(): Me {
  const { me } = useSession();
  if (!me) throw new Error('useMe while signed out');
  return me;
}
