import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from "react";
import {
  ApiError,
  api,
  type MfaState,
  type SessionInfo,
  setAuthLostListener,
  setCsrfToken,
  type User,
} from "./api.ts";

/** What the server answers to setup, login, MFA, enrolment and invite acceptance. */
export interface SessionGrant {
  user: User;
  csrfToken: string;
  mfa: MfaState;
}

type State =
  | { status: "loading" }
  | { status: "anonymous"; notice?: string }
  | { status: "signed-in"; user: User; mfa: MfaState };

interface SessionApi {
  state: State;
  /** Adopts a grant returned by a sign-in step. */
  apply(grant: SessionGrant): void;
  refresh(): Promise<void>;
  signOut(everywhere?: boolean): Promise<void>;
}

const Ctx = createContext<SessionApi | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<State>({ status: "loading" });

  const apply = useCallback((g: SessionGrant) => {
    setCsrfToken(g.csrfToken);
    setState({ status: "signed-in", user: g.user, mfa: g.mfa });
  }, []);

  const refresh = useCallback(async () => {
    try {
      const s = await api.get<SessionInfo>("/auth/session");
      setCsrfToken(s.csrfToken);
      setState({ status: "signed-in", user: s.user, mfa: s.mfa });
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
        setCsrfToken(null);
        setState({ status: "anonymous" });
      } else throw e;
    }
  }, []);

  const signOut = useCallback(async (everywhere = false) => {
    try {
      await api.post("/auth/logout", { everywhere });
    } finally {
      setCsrfToken(null);
      setState({ status: "anonymous", notice: everywhere ? "Signed out of every session." : "Signed out." });
    }
  }, []);

  useEffect(() => {
    refresh().catch(() => setState({ status: "anonymous", notice: "Warden could not be reached." }));
    setAuthLostListener(() => {
      setCsrfToken(null);
      setState({ status: "anonymous", notice: "Your session ended. Sign in again." });
    });
    return () => setAuthLostListener(null);
  }, [refresh]);

  const value = useMemo(() => ({ state, apply, refresh, signOut }), [state, apply, refresh, signOut]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useSession(): SessionApi {
  const s = useContext(Ctx);
  if (!s) throw new Error("useSession outside SessionProvider");
  return s;
}

/** The signed-in user; only call below a route that requires one. */
export function useUser(): User {
  const { state } = useSession();
  if (state.status !== "signed-in") throw new Error("useUser without a signed-in user");
  return state.user;
}

const staffWrite = { people: ["admin", "security", "manager"], leads: ["admin", "security"] } as const;
export const can = {
  writePeople: (u: User) => (staffWrite.people as readonly string[]).includes(u.role),
  writeAgreements: (u: User) => (staffWrite.leads as readonly string[]).includes(u.role),
  writeVetting: (u: User) => (staffWrite.leads as readonly string[]).includes(u.role),
  writeTraining: (u: User) => (staffWrite.people as readonly string[]).includes(u.role),
  readDocuments: (u: User) => ["admin", "security", "auditor"].includes(u.role),
  readUsers: (u: User) => ["admin", "security", "auditor"].includes(u.role),
  writeUsers: (u: User) => u.role === "admin",
  invite: (u: User) => (staffWrite.leads as readonly string[]).includes(u.role),
  readAudit: (u: User) => ["admin", "security", "auditor"].includes(u.role),
  readSettings: (u: User) => ["admin", "security", "auditor"].includes(u.role),
  writeSettings: (u: User) => (staffWrite.leads as readonly string[]).includes(u.role),
  scheduleScans: (u: User) => (staffWrite.leads as readonly string[]).includes(u.role),
  readKeys: (u: User) => ["admin", "security", "auditor"].includes(u.role),
  rotateKeys: (u: User) => u.role === "admin",
  readAlerts: (u: User) => ["admin", "security", "auditor"].includes(u.role),
  writeAlerts: (u: User) => (staffWrite.leads as readonly string[]).includes(u.role),
  /** The resource catalog and break-glass reviews (access:admin). */
  adminAccess: (u: User) => (staffWrite.leads as readonly string[]).includes(u.role),
  /** Approve, deny and revoke (managers only on resources they own: the server says per record). */
  decideAccess: (u: User) => ["admin", "security", "manager"].includes(u.role),
  writeReviews: (u: User) => (staffWrite.leads as readonly string[]).includes(u.role),
};
