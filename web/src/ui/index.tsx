// Our small design system: every input is labelled, every button has a name, errors are words.
import {
  useId,
  type ButtonHTMLAttributes,
  type InputHTMLAttributes,
  type ReactNode,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
} from "react";
import { Link, type LinkProps } from "react-router";
import { errorMessage, errorRequestId } from "../api/client";
import s from "./ui.module.css";

type Variant = "primary" | "secondary" | "danger" | "ghost";

function cx(...names: (string | false | undefined | null)[]): string {
  return names.filter(Boolean).join(" ");
}

export function Button({
  variant = "primary",
  small,
  busy,
  className,
  children,
  ...rest
}: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: Variant; small?: boolean; busy?: boolean }) {
  return (
    <button
      type="button"
      {...rest}
      disabled={rest.disabled || busy}
      aria-busy={busy || undefined}
      className={cx(s.button, s[variant], small && s.small, className)}
    >
      {children}
    </button>
  );
}

export function ButtonLink({
  variant = "primary",
  small,
  className,
  ...rest
}: LinkProps & { variant?: Variant; small?: boolean }) {
  return <Link {...rest} className={cx(s.button, s[variant], small && s.small, className)} />;
}

interface FieldBase {
  label: string;
  error?: string | undefined;
  hint?: string | undefined;
}

function FieldShell({ id, label, error, hint, children }: FieldBase & { id: string; children: ReactNode }) {
  return (
    <div className={s.field}>
      <label className={s.label} htmlFor={id}>
        {label}
      </label>
      {children}
      {hint && (
        <span className={s.hint} id={`${id}-hint`}>
          {hint}
        </span>
      )}
      {error && (
        <span className={s.fieldError} id={`${id}-error`} role="alert">
          {error}
        </span>
      )}
    </div>
  );
}

function describedBy(id: string, error?: string, hint?: string): string | undefined {
  const ids = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean);
  return ids.length ? ids.join(" ") : undefined;
}

export function TextField({ label, error, hint, id, ...rest }: FieldBase & InputHTMLAttributes<HTMLInputElement>) {
  const auto = useId();
  const fid = id ?? auto;
  return (
    <FieldShell id={fid} label={label} error={error} hint={hint}>
      <input
        id={fid}
        className={s.input}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(fid, error, hint)}
        {...rest}
      />
    </FieldShell>
  );
}

export function TextArea({ label, error, hint, id, ...rest }: FieldBase & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const auto = useId();
  const fid = id ?? auto;
  return (
    <FieldShell id={fid} label={label} error={error} hint={hint}>
      <textarea
        id={fid}
        className={s.input}
        rows={4}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(fid, error, hint)}
        {...rest}
      />
    </FieldShell>
  );
}

export function Select({
  label,
  error,
  hint,
  id,
  options,
  ...rest
}: FieldBase &
  SelectHTMLAttributes<HTMLSelectElement> & { options: readonly { value: string; label: string }[] }) {
  const auto = useId();
  const fid = id ?? auto;
  return (
    <FieldShell id={fid} label={label} error={error} hint={hint}>
      <select
        id={fid}
        className={s.input}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(fid, error, hint)}
        {...rest}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </FieldShell>
  );
}

export function Checkbox({ label, id, ...rest }: { label: string } & InputHTMLAttributes<HTMLInputElement>) {
  const auto = useId();
  const fid = id ?? auto;
  return (
    <div className={s.checkbox}>
      <input type="checkbox" id={fid} {...rest} />
      <label htmlFor={fid}>{label}</label>
    </div>
  );
}

export function Card({ children, className, ...rest }: { children: ReactNode; className?: string } & React.HTMLAttributes<HTMLElement>) {
  return (
    <section className={cx(s.card, className)} {...rest}>
      {children}
    </section>
  );
}

export function Alert({ kind = "error", children }: { kind?: "error" | "info" | "success" | "warn"; children: ReactNode }) {
  const cls = { error: s.alertError, info: s.alertInfo, success: s.alertSuccess, warn: s.alertWarn }[kind];
  return (
    <div className={cx(s.alert, cls)} role={kind === "error" ? "alert" : "status"}>
      {children}
    </div>
  );
}

/** The words of an API error (its envelope message), for a query or mutation that failed. */
export function ErrorState({ error, retry }: { error: unknown; retry?: () => void }) {
  return (
    <Alert kind="error">
      <span>{errorMessage(error)}</span>{" "}
      {retry && (
        <Button small variant="secondary" onClick={retry}>
          Try again
        </Button>
      )}
      <RequestRef error={error} />
    </Alert>
  );
}

/** "Request id: …" of a failed call, selectable, so a person can quote it to support. */
export function RequestRef({ error }: { error: unknown }) {
  const id = errorRequestId(error);
  if (!id) return null;
  return (
    <span className={s.requestRef} data-testid="request-id">
      If this keeps happening, quote request id <code>{id}</code> to support.
    </span>
  );
}

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div className={s.spinner} role="status" aria-live="polite">
      {label}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className={s.empty}>{children}</div>;
}

export function Badge({ tone, children }: { tone?: "success" | "warn" | "danger" | "primary"; children: ReactNode }) {
  const cls = tone && { success: s.badgeSuccess, warn: s.badgeWarn, danger: s.badgeDanger, primary: s.badgePrimary }[tone];
  return <span className={cx(s.badge, cls)}>{children}</span>;
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className={s.pageHeader}>
      <h1>{title}</h1>
      {children && <div className={s.row}>{children}</div>}
    </div>
  );
}

export function Stat({ label, value }: { label: string; value: ReactNode }) {
  return (
    <Card className={s.stat}>
      <span className={s.statValue}>{value}</span>
      <span className={s.statLabel}>{label}</span>
    </Card>
  );
}

export const layout = { stack: s.stack, row: s.row, grid: s.grid, table: s.table, tableWrap: s.tableWrap, progress: s.progress };
