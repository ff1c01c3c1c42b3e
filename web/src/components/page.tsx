import { type ReactNode, useEffect, useRef } from "react";

/**
 * Every screen's frame: sets the document title and moves focus to the heading when the screen
 * opens, so keyboard and screen-reader users land on the new content after navigating.
 */
export function Page({
  title,
  actions,
  children,
  lead,
}: {
  title: string;
  actions?: ReactNode;
  children: ReactNode;
  lead?: ReactNode;
}) {
  const h1 = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Warden`;
    h1.current?.focus({ preventScroll: false });
  }, [title]);
  return (
    <section className="page">
      <header className="page-header">
        <div>
          <h1 tabIndex={-1} ref={h1}>
            {title}
          </h1>
          {lead && <p className="lead">{lead}</p>}
        </div>
        {actions && <div className="page-actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
}

export function Section({
  title,
  children,
  actions,
}: {
  title: string;
  children: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <section className="panel">
      <header className="panel-header">
        <h2>{title}</h2>
        {actions}
      </header>
      {children}
    </section>
  );
}
