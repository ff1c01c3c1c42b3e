import type { ReactNode } from "react";
import { useSearchParams } from "react-router-dom";
import type { Page as ListPage } from "../api.ts";
import type { Resource } from "../hooks.ts";
import { Empty, ErrorBox, Loading } from "./status.tsx";

export const PAGE_SIZE = 50;

/** Reads offset/limit and filters from the URL, so lists survive reloads and the back button. */
export function useListParams() {
  const [params, setParams] = useSearchParams();
  const offset = Math.max(0, Number(params.get("offset")) || 0);
  const get = (k: string) => params.get(k) ?? "";
  const setFilter = (k: string, v: string) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    next.delete("offset");
    setParams(next, { replace: true });
  };
  /** Sets several filters at once (calling setFilter in a row would keep only the last). */
  const setFilters = (f: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(f)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    next.delete("offset");
    setParams(next, { replace: true });
  };
  const setOffset = (o: number) => {
    const next = new URLSearchParams(params);
    if (o > 0) next.set("offset", String(o));
    else next.delete("offset");
    setParams(next);
  };
  return { offset, limit: PAGE_SIZE, get, setFilter, setFilters, setOffset };
}

export function Pager({
  total,
  offset,
  limit,
  onChange,
}: {
  total: number;
  offset: number;
  limit: number;
  onChange(o: number): void;
}) {
  if (total <= limit && offset === 0) return null;
  const last = Math.min(total, offset + limit);
  return (
    <nav className="pager" aria-label="Pages">
      <span>
        {offset + 1}–{last} of {total}
      </span>
      <button
        type="button"
        className="small"
        disabled={offset === 0}
        onClick={() => onChange(Math.max(0, offset - limit))}
      >
        Previous
      </button>
      <button
        type="button"
        className="small"
        disabled={last >= total}
        onClick={() => onChange(offset + limit)}
      >
        Next
      </button>
    </nav>
  );
}

/** A search box for list filters: filters as the user types, after a short pause. */
export function SearchBox({
  label,
  value,
  onChange,
}: {
  label: string;
  value: string;
  onChange(v: string): void;
}) {
  return (
    <div className="field">
      <label htmlFor="list-search">{label}</label>
      <input
        id="list-search"
        type="search"
        defaultValue={value}
        onChange={(e) => debounce(() => onChange(e.target.value))}
      />
    </div>
  );
}

let timer: ReturnType<typeof setTimeout> | undefined;
function debounce(f: () => void) {
  clearTimeout(timer);
  timer = setTimeout(f, 250);
}

export function FilterSelect({
  id,
  label,
  value,
  options,
  onChange,
  allLabel = "All",
}: {
  id: string;
  label: string;
  value: string;
  options: readonly { value: string; label: string }[];
  onChange(v: string): void;
  allLabel?: string;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">{allLabel}</option>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}

/**
 * The body of a paged list: its error, a loading state, an empty message, the rows (rendered by
 * `children` only when there are some) and the pager, in the same order on every list page.
 */
export function ListResults<T>({
  list,
  what,
  empty,
  params,
  children,
}: {
  list: Resource<ListPage<T>>;
  /** e.g. "The vendor list", for the error box */
  what: string;
  empty: ReactNode;
  params: ReturnType<typeof useListParams>;
  children(items: T[]): ReactNode;
}) {
  return (
    <>
      {list.error && <ErrorBox error={list.error} what={what} />}
      {list.loading && !list.data && <Loading />}
      {list.data?.items.length === 0 && <Empty>{empty}</Empty>}
      {list.data && list.data.items.length > 0 && children(list.data.items)}
      {list.data && (
        <Pager
          total={list.data.total}
          offset={params.offset}
          limit={params.limit}
          onChange={params.setOffset}
        />
      )}
    </>
  );
}
