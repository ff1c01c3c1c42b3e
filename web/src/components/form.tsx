import {
  createContext,
  type FormEvent,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useId,
  useRef,
  useState,
} from "react";
import { ApiError } from "../api.ts";

/**
 * A small form kit: <Form> holds the values and the server's field errors; fields find their value,
 * label id and error by name. Validation is the server's (the same Zod schemas as the API): its
 * problem+json field errors appear beside each field and in a summary with role="alert".
 */
export type Values = Record<string, string | boolean>;

interface FormCtx {
  idFor(name: string): string;
  value(name: string): string | boolean;
  set(name: string, v: string | boolean): void;
  error(name: string): string | undefined;
  busy: boolean;
}

const Ctx = createContext<FormCtx | null>(null);
const useFormCtx = (): FormCtx => {
  const c = useContext(Ctx);
  if (!c) throw new Error("field outside <Form>");
  return c;
};

export function useValues<T extends Values>(initial: T) {
  const [values, setValues] = useState<T>(initial);
  const set = useCallback((name: string, v: string | boolean) => setValues((o) => ({ ...o, [name]: v })), []);
  return { values, set, reset: setValues };
}

interface FormProps {
  values: Values;
  set(name: string, v: string | boolean): void;
  onSubmit(): Promise<void>;
  submitLabel: string;
  /** Field names shown in this form, for linking summary entries to inputs. */
  children: ReactNode;
  secondary?: ReactNode;
  /** Labels of fields, to name them in the summary. */
  labels?: Record<string, string>;
  disabled?: boolean;
}

export function Form({
  values,
  set,
  onSubmit,
  submitLabel,
  children,
  secondary,
  labels,
  disabled,
}: FormProps) {
  const prefix = useId();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState(false);
  const summary = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (error) summary.current?.focus();
  }, [error]);

  const idFor = (name: string) => `${prefix}-${name.replace(/[^a-zA-Z0-9_-]/g, "-")}`;
  const ctx: FormCtx = {
    idFor,
    value: (n) => values[n] ?? "",
    set,
    error: (n) => fieldError(error, n),
    busy,
  };

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    setDone(false);
    try {
      await onSubmit();
      setDone(true);
    } catch (err) {
      setError(
        err instanceof ApiError
          ? err
          : new ApiError(0, { title: "Error", detail: (err as Error).message || "Something went wrong" }),
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <Ctx.Provider value={ctx}>
      <form className="form" noValidate onSubmit={submit} aria-busy={busy}>
        {error && (
          <ErrorSummary error={error} ref={summary} idFor={idFor} labels={labels ?? {}} known={values} />
        )}
        {children}
        <div className="form-actions">
          <button type="submit" className="primary" disabled={busy || disabled}>
            {busy ? "Working…" : submitLabel}
          </button>
          {secondary}
          <span className="form-done" role="status">
            {done && !busy ? "Saved." : ""}
          </span>
        </div>
      </form>
    </Ctx.Provider>
  );
}

/** The error for a field, or for its items ("sshPublicKeys.1" shows on "sshPublicKeys" as "item 2: …"). */
function fieldError(error: ApiError | null, name: string): string | undefined {
  if (!error) return undefined;
  if (error.fields[name]) return error.fields[name];
  const nested = Object.entries(error.fields).filter(([k]) => k.startsWith(`${name}.`));
  if (nested.length === 0) return undefined;
  return nested
    .map(([k, m]) => {
      const rest = k.slice(name.length + 1);
      return /^\d+$/.test(rest) ? `item ${Number(rest) + 1}: ${m}` : `${rest}: ${m}`;
    })
    .join("; ");
}

/** "contacts.0.email" → "Contacts 1 email" when no label was given. */
const prettyName = (n: string): string =>
  n
    .split(".")
    .map((p) => (/^\d+$/.test(p) ? String(Number(p) + 1) : p.replace(/([A-Z])/g, " $1").toLowerCase()))
    .join(" ")
    .replace(/^./, (c) => c.toUpperCase());

/** The input a summary entry links to: the field itself, or the list field holding the item. */
const targetOf = (name: string, known: Values): string | undefined => {
  if (name in known) return name;
  const parent = Object.keys(known).find((k) => name.startsWith(`${k}.`));
  return parent;
};

function ErrorSummary({
  error,
  ref,
  idFor,
  labels,
  known,
}: {
  error: ApiError;
  ref: React.Ref<HTMLDivElement>;
  idFor(n: string): string;
  labels: Record<string, string>;
  known: Values;
}) {
  const entries = Object.entries(error.fields);
  return (
    <div className="error-summary" role="alert" tabIndex={-1} ref={ref}>
      <p className="error-summary-title">
        {entries.length > 0
          ? `${entries.length === 1 ? "One field needs" : `${entries.length} fields need`} attention`
          : error.message}
      </p>
      {entries.length > 0 && (
        <ul>
          {entries.map(([name, message]) => {
            const target = targetOf(name, known);
            const text = `${labels[name] ?? (name ? prettyName(name) : "Form")}: ${message}`;
            return (
              <li key={name}>
                {target ? (
                  <a
                    href={`#${idFor(target)}`}
                    onClick={(e) => {
                      e.preventDefault();
                      document.getElementById(idFor(target))?.focus();
                    }}
                  >
                    {text}
                  </a>
                ) : (
                  <span>{text}</span>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}

interface FieldProps {
  name: string;
  label: string;
  hint?: string;
  required?: boolean;
}

function FieldShell({
  name,
  label,
  hint,
  required,
  children,
}: FieldProps & { children: (a: Record<string, unknown>) => ReactNode }) {
  const f = useFormCtx();
  const id = f.idFor(name);
  const err = f.error(name);
  const describedBy = [hint ? `${id}-hint` : "", err ? `${id}-error` : ""].filter(Boolean).join(" ");
  return (
    <div className={`field${err ? " field-invalid" : ""}`}>
      <label htmlFor={id}>
        {label}
        {required && (
          <span className="req" aria-hidden="true">
            {" "}
            (required)
          </span>
        )}
      </label>
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {children({
        id,
        name,
        "aria-invalid": err ? true : undefined,
        "aria-describedby": describedBy || undefined,
        "aria-required": required || undefined,
      })}
      {err && (
        <p className="field-error" id={`${id}-error`}>
          {err}
        </p>
      )}
    </div>
  );
}

type InputType = "text" | "email" | "password" | "number" | "date" | "url" | "time" | "datetime-local";

export function TextField(
  props: FieldProps & {
    type?: InputType;
    autoComplete?: string;
    inputMode?: "numeric" | "decimal";
    list?: string;
  },
) {
  const f = useFormCtx();
  const { type = "text", autoComplete, inputMode, list, ...rest } = props;
  return (
    <FieldShell {...rest}>
      {(a) => (
        <input
          {...a}
          type={type}
          autoComplete={autoComplete ?? "off"}
          inputMode={inputMode}
          list={list}
          value={String(f.value(props.name))}
          onChange={(e) => f.set(props.name, e.target.value)}
        />
      )}
    </FieldShell>
  );
}

export function TextArea(props: FieldProps & { rows?: number; mono?: boolean }) {
  const f = useFormCtx();
  const { rows = 3, mono, ...rest } = props;
  return (
    <FieldShell {...rest}>
      {(a) => (
        <textarea
          {...a}
          rows={rows}
          className={mono ? "mono" : undefined}
          value={String(f.value(props.name))}
          onChange={(e) => f.set(props.name, e.target.value)}
        />
      )}
    </FieldShell>
  );
}

export interface Option {
  value: string;
  label: string;
}

export function SelectField(props: FieldProps & { options: readonly Option[]; placeholder?: string }) {
  const f = useFormCtx();
  const { options, placeholder, ...rest } = props;
  return (
    <FieldShell {...rest}>
      {(a) => (
        <select
          {...a}
          value={String(f.value(props.name))}
          onChange={(e) => f.set(props.name, e.target.value)}
        >
          {placeholder !== undefined && <option value="">{placeholder}</option>}
          {options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    </FieldShell>
  );
}

export function CheckboxField({ name, label, hint }: { name: string; label: string; hint?: string }) {
  const f = useFormCtx();
  const id = f.idFor(name);
  const err = f.error(name);
  return (
    <div className={`field field-check${err ? " field-invalid" : ""}`}>
      <input
        id={id}
        type="checkbox"
        checked={f.value(name) === true}
        onChange={(e) => f.set(name, e.target.checked)}
        aria-describedby={
          [hint ? `${id}-hint` : "", err ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined
        }
      />
      <label htmlFor={id}>{label}</label>
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {err && (
        <p className="field-error" id={`${id}-error`}>
          {err}
        </p>
      )}
    </div>
  );
}

/** A group of checkboxes for a list value stored as comma-joined names (e.g. roles, scopes). */
export function CheckboxGroup({
  name,
  legend,
  options,
  hint,
}: {
  name: string;
  legend: string;
  options: readonly Option[];
  hint?: string;
}) {
  const f = useFormCtx();
  const id = f.idFor(name);
  const err = f.error(name);
  const selected = new Set(String(f.value(name)).split(",").filter(Boolean));
  const toggle = (v: string, on: boolean) => {
    if (on) selected.add(v);
    else selected.delete(v);
    f.set(
      name,
      options
        .map((o) => o.value)
        .filter((o) => selected.has(o))
        .join(","),
    );
  };
  return (
    <fieldset className={`field checkbox-group${err ? " field-invalid" : ""}`} id={id}>
      <legend>{legend}</legend>
      {hint && <p className="hint">{hint}</p>}
      <div className="checkbox-row">
        {options.map((o) => (
          <label key={o.value} className="inline-check">
            <input
              type="checkbox"
              checked={selected.has(o.value)}
              onChange={(e) => toggle(o.value, e.target.checked)}
            />
            {o.label}
          </label>
        ))}
      </div>
      {err && <p className="field-error">{err}</p>}
    </fieldset>
  );
}

// ---- Converting form strings into API values ----

export const str = (v: string | boolean | undefined): string => (typeof v === "string" ? v.trim() : "");
export const orNull = (v: string | boolean | undefined): string | null => str(v) || null;
export const numOrNull = (v: string | boolean | undefined): number | null => {
  const s = str(v);
  if (!s) return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : (s as unknown as number); // let the server name the bad value
};
export const list = (v: string | boolean | undefined, sep: RegExp = /[\n,]/): string[] =>
  str(v)
    .split(sep)
    .map((s) => s.trim())
    .filter(Boolean);
