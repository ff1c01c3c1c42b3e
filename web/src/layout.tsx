import { Navigate, NavLink, Outlet, useLocation } from "react-router-dom";
import type { User } from "./api.ts";
import { Loading } from "./components/status.tsx";
import { can, useSession } from "./session.tsx";

interface NavItem {
  to: string;
  label: string;
  show(u: User): boolean;
}

const staff = (u: User) => u.role !== "developer";
const nav: NavItem[] = [
  { to: "/", label: "Dashboard", show: staff },
  { to: "/vendors", label: "Vendors", show: staff },
  { to: "/developers", label: "Developers", show: staff },
  { to: "/engagements", label: "Engagements", show: staff },
  { to: "/agreements", label: "Agreements", show: staff },
  { to: "/training", label: "Training", show: staff },
  { to: "/access", label: "Access", show: staff },
  { to: "/shares", label: "Shares", show: staff },
  { to: "/alerts", label: "Alerts", show: can.readAlerts },
  { to: "/events", label: "Events", show: can.readAudit },
  { to: "/audit", label: "Audit", show: can.readAudit },
  { to: "/scans", label: "File scans", show: staff },
  { to: "/scans/tls", label: "TLS scans", show: staff },
  { to: "/users", label: "Users", show: can.readUsers },
  { to: "/settings", label: "Settings", show: can.readSettings },
  { to: "/me", label: "My profile", show: (u) => u.role === "developer" },
  { to: "/me/access", label: "My access", show: (u) => u.role === "developer" },
  { to: "/me/shares", label: "My shares", show: (u) => u.role === "developer" },
];

/** Requires a fully signed-in session (second factor done); otherwise sends to the right step. */
export function RequireSession() {
  const { state } = useSession();
  const location = useLocation();
  if (state.status === "loading") return <Loading label="Opening Warden…" />;
  if (state.status === "anonymous")
    return <Navigate to="/sign-in" replace state={{ from: location.pathname + location.search }} />;
  if (state.mfa === "enrolment_required") return <Navigate to="/enrol" replace />;
  if (state.mfa === "required") return <Navigate to="/sign-in" replace state={{ from: location.pathname }} />;
  return <Shell user={state.user} />;
}

function Shell({ user }: { user: User }) {
  const { signOut } = useSession();
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <NavLink to={user.role === "developer" ? "/me" : "/"} className="brand">
          <span className="brand-mark" aria-hidden="true">
            W
          </span>
          Warden
        </NavLink>
        <nav aria-label="Main">
          <ul>
            {nav
              .filter((n) => n.show(user))
              .map((n) => (
                <li key={n.to}>
                  <NavLink to={n.to} end={n.to === "/" || n.to === "/me" || n.to === "/scans"}>
                    {n.label}
                  </NavLink>
                </li>
              ))}
          </ul>
        </nav>
        <div className="account">
          <NavLink to="/account" title="Your account, API tokens and sessions">
            {user.displayName} <span className="role">({user.role})</span>
          </NavLink>
          <button type="button" className="link" onClick={() => signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}

export function StaffOnly({ children }: { children: React.ReactNode }) {
  const { state } = useSession();
  if (state.status === "signed-in" && state.user.role === "developer") return <Navigate to="/me" replace />;
  return <>{children}</>;
}
