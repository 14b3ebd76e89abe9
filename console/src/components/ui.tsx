import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef } from 'preact/hooks';

/**
 * A modal on the native <dialog>: showModal() gives the focus trap, Escape and the inert page behind
 * it for free, which is what keyboard and screen reader users expect.
 */
export function Dialog(props: {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  wide?: boolean;
  footer?: ComponentChildren;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    // Focus goes back where it was (the button that opened the dialog) when the dialog goes away.
    const opener = document.activeElement as HTMLElement | null;
    if (d && !d.open) d.showModal();
    return () => {
      d?.close();
      setTimeout(() => {
        if (opener?.isConnected && !document.querySelector('dialog[open]')) opener.focus();
      }, 0);
    };
  }, []);
  return (
    <dialog
      ref={ref}
      class={props.wide ? 'dialog wide' : 'dialog'}
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        props.onClose();
      }}
    >
      <header class="dialog-head">
        <h2 id={titleId}>{props.title}</h2>
        <button type="button" class="icon" aria-label="Close" onClick={props.onClose}>
          ×
        </button>
      </header>
      <div class="dialog-body">{props.children}</div>
      {props.footer ? <footer class="dialog-foot">{props.footer}</footer> : null}
    </dialog>
  );
}

/** A labelled control with its help and error text wired through aria-describedby. */
export function Field(props: {
  label: string;
  error?: string;
  help?: ComponentChildren;
  required?: boolean;
  children: (id: string, describedBy: string | undefined, invalid: boolean) => ComponentChildren;
}) {
  const id = useId();
  const helpId = `${id}-help`;
  const errId = `${id}-err`;
  const describedBy =
    [props.help ? helpId : '', props.error ? errId : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class={props.error ? 'field invalid' : 'field'}>
      <div class="label-row">
        <label for={id}>{props.label}</label>
        {props.required ? (
          <span class="req" aria-hidden="true">
            *
          </span>
        ) : null}
      </div>
      {props.children(id, describedBy, Boolean(props.error))}
      {props.help ? (
        <div class="help" id={helpId}>
          {props.help}
        </div>
      ) : null}
      {props.error ? (
        <div class="error-text" id={errId} role="alert">
          {props.error}
        </div>
      ) : null}
    </div>
  );
}

export interface Option {
  value: string;
  label: string;
}

export function Select(props: {
  label: string;
  value: string;
  options: readonly Option[];
  onChange: (v: string) => void;
  error?: string;
  help?: ComponentChildren;
  required?: boolean;
  disabled?: boolean;
  name?: string;
}) {
  return (
    <Field label={props.label} error={props.error} help={props.help} required={props.required}>
      {(id, describedBy, invalid) => (
        <select
          id={id}
          name={props.name}
          value={props.value}
          disabled={props.disabled}
          aria-describedby={describedBy}
          aria-invalid={invalid}
          required={props.required}
          onChange={(e) => props.onChange((e.currentTarget as HTMLSelectElement).value)}
        >
          {props.options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

export function TextInput(props: {
  label: string;
  value: string;
  onInput: (v: string) => void;
  error?: string;
  help?: ComponentChildren;
  required?: boolean;
  name?: string;
  placeholder?: string;
  autocomplete?: string;
  /** Focused when a dialog opens (showModal focuses the element with autofocus). */
  autofocus?: boolean;
}) {
  return (
    <Field label={props.label} error={props.error} help={props.help} required={props.required}>
      {(id, describedBy, invalid) => (
        <input
          id={id}
          type="text"
          name={props.name}
          placeholder={props.placeholder}
          autocomplete={props.autocomplete}
          autofocus={props.autofocus}
          value={props.value}
          required={props.required}
          aria-describedby={describedBy}
          aria-invalid={invalid}
          onInput={(e) => props.onInput((e.currentTarget as HTMLInputElement).value)}
        />
      )}
    </Field>
  );
}

export function TextArea(props: {
  label: string;
  value: string;
  onInput: (v: string) => void;
  error?: string;
  rows?: number;
  maxLength?: number;
  required?: boolean;
  name?: string;
}) {
  return (
    <Field label={props.label} error={props.error} required={props.required}>
      {(id, describedBy, invalid) => (
        <textarea
          id={id}
          name={props.name}
          rows={props.rows ?? 3}
          maxLength={props.maxLength}
          value={props.value}
          required={props.required}
          aria-describedby={describedBy}
          aria-invalid={invalid}
          onInput={(e) => props.onInput((e.currentTarget as HTMLTextAreaElement).value)}
        />
      )}
    </Field>
  );
}

/** A polite live region for results of actions ("Rule 12 saved"), read out by screen readers. */
export function Notice(props: { kind: 'ok' | 'error' | 'info'; children: ComponentChildren }) {
  return (
    <div class={`notice ${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      {props.children}
    </div>
  );
}

export function ProgressBar(props: { value: number; label: string }) {
  const v = Math.max(0, Math.min(100, Math.round(props.value)));
  return (
    <div class="progress-wrap">
      <div
        class="progress"
        role="progressbar"
        aria-label={props.label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={v}
      >
        <div class="progress-fill" style={{ width: `${v}%` }} />
      </div>
      <span class="progress-text">{v}%</span>
    </div>
  );
}

export function Pager(props: {
  page: number;
  hasNext: boolean;
  total?: number;
  onPrev: () => void;
  onNext: () => void;
  label: string;
}) {
  return (
    <nav class="pager" aria-label={props.label}>
      <button type="button" onClick={props.onPrev} disabled={props.page === 0}>
        Previous
      </button>
      <span>
        Page {props.page + 1}
        {props.total !== undefined ? ` · ${props.total} in all` : ''}
      </span>
      <button type="button" onClick={props.onNext} disabled={!props.hasNext}>
        Next
      </button>
    </nav>
  );
}

/**
 * The frame of a wide table: it scrolls sideways when the table is wider than the screen, and takes
 * the keyboard focus so that keyboard users can scroll it too (a named region in the landmarks).
 */
export function TableWrap(props: { label: string; children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take the focus to be scrolled from the keyboard
    <section class="table-wrap" tabIndex={0} aria-label={props.label}>
      {props.children}
    </section>
  );
}

/** A form dialog's footer: Cancel, and the button that submits `form` (disabled while `busy`). */
export function SubmitOrCancel(props: {
  form: string;
  onClose: () => void;
  label?: string;
  busy?: boolean;
  busyLabel?: string;
}) {
  const label = props.label ?? 'Save';
  return (
    <>
      <button type="button" onClick={props.onClose}>
        Cancel
      </button>
      <button type="submit" form={props.form} class="primary" disabled={props.busy}>
        {props.busy ? (props.busyLabel ?? label) : label}
      </button>
    </>
  );
}
