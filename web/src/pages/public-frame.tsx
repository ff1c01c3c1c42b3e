import type { ReactNode } from "react";

/** The narrow, centred frame of the screens shown before sign-in. */
export function PublicFrame({ children }: { children: ReactNode }) {
  return (
    <div className="public">
      <div className="brand brand-public" aria-hidden="true">
        <span className="brand-mark">W</span> Warden
      </div>
      <main id="main" className="public-card">
        {children}
      </main>
    </div>
  );
}
