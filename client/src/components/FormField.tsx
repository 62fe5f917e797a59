import { cloneElement, type ReactElement, type ReactNode } from 'react';
import type { z } from 'zod';
import { fieldMessage } from '../../../shared/field-messages';
import { validate, type FieldErrors } from '../lib/forms';
import styles from './FormField.module.css';

type FieldProps = {
  /** The id of the control inside; the hint or error gets `${id}-hint`. */
  id: string;
  label: ReactNode;
  error?: string;
  hint?: ReactNode;
  /** One input, select or textarea; it gets aria-invalid and aria-describedby. */
  children: ReactElement<{ 'aria-invalid'?: boolean; 'aria-describedby'?: string }>;
  className?: string;
};

/** A labelled control with its hint, replaced by its error when there is one. */
export function Field({ id, label, error, hint, children, className }: FieldProps) {
  const described = error || hint ? `${id}-hint` : undefined;
  return (
    <div className={className ? `field ${className}` : 'field'}>
      <label htmlFor={id}>{label}</label>
      {cloneElement(children, { 'aria-invalid': !!error, 'aria-describedby': described })}
      {described && (
        <div className={error ? 'field-error' : 'field-hint'} id={described}>
          {error ?? hint}
        </div>
      )}
    </div>
  );
}

/** The reason every admin change needs (the shared reasonSchema checks it). */
export function ReasonField({
  id,
  value,
  onChange,
  error,
  placeholder,
  hint = 'Required. Recorded in the audit log.',
}: {
  id: string;
  value: string;
  onChange: (v: string) => void;
  error?: string;
  placeholder?: string;
  hint?: string;
}) {
  return (
    <Field id={id} label="Reason" error={error} hint={hint}>
      <input id={id} autoComplete="off" maxLength={500} value={value} placeholder={placeholder} onChange={(e) => onChange(e.target.value)} />
    </Field>
  );
}

/** What the change will do, shown above the buttons. */
export function FormPreview({ children, testId }: { children: ReactNode; testId?: string }) {
  return (
    <div className={styles.preview} data-testid={testId}>
      {children}
    </div>
  );
}

/**
 * Cancel and the submit button with its own verb, showing progress while busy. `danger` for an
 * action that cannot be undone; `autoFocusSubmit` where the dialog is only a confirmation.
 */
export function FormActions({
  onClose,
  busy,
  label,
  busyLabel = 'Saving…',
  danger = false,
  autoFocusSubmit = false,
}: {
  onClose: () => void;
  busy: boolean | undefined;
  label: string;
  busyLabel?: string;
  danger?: boolean;
  autoFocusSubmit?: boolean;
}) {
  return (
    <div className="form-actions">
      <button type="button" className="button" onClick={onClose}>
        Cancel
      </button>
      <button type="submit" className={danger ? 'button button-danger' : 'button button-primary'} disabled={busy === true} data-autofocus={autoFocusSubmit || undefined}>
        {busy ? busyLabel : label}
      </button>
    </div>
  );
}

/** A whole number typed in a field, or NaN so the shared zod schema says what is wrong. */
export const wholeNumber = (text: string) => (text.trim() === '' ? Number.NaN : Number(text.trim()));

/**
 * The shared schemas name their fields in messages ("costPerCredit must be a decimal string…"),
 * which reads well in an API error; under a labelled field the name is noise. This drops it:
 * "Must be a decimal string…", "Required for http billing".
 */
export function validateForm<S extends z.ZodType>(schema: S, values: unknown): ReturnType<typeof validate<S>> {
  const result = validate(schema, values);
  if (result.ok) return result;
  const errors: FieldErrors = {};
  for (const [key, message] of Object.entries(result.errors)) errors[key] = key === '_form' ? message : fieldMessage(key, message);
  return { ok: false, errors };
}

/**
 * A set of checkboxes under one legend (an API key's scopes, a webhook's events), each with its
 * description; the value stays in `options`' order whatever order they were ticked in.
 */
export function ChoiceListField<T extends string>({
  id,
  legend,
  name,
  options,
  descriptions,
  value,
  onChange,
  error,
}: {
  id: string;
  legend: ReactNode;
  name: string;
  options: readonly T[];
  descriptions: Record<T, ReactNode>;
  value: T[];
  onChange: (v: T[]) => void;
  error?: string;
}) {
  const toggle = (option: T, on: boolean) => onChange(on ? options.filter((x) => x === option || value.includes(x)) : value.filter((x) => x !== option));
  return (
    <fieldset className="field" aria-invalid={!!error} aria-describedby={`${id}-error`}>
      <legend>{legend}</legend>
      {options.map((option) => (
        <label key={option} className="checkbox">
          <input type="checkbox" name={name} value={option} checked={value.includes(option)} onChange={(e) => toggle(option, e.target.checked)} />
          <span className="mono">{option}</span>
          <span className="muted">{descriptions[option]}</span>
        </label>
      ))}
      {error && (
        <div className="field-error" id={`${id}-error`}>
          {error}
        </div>
      )}
    </fieldset>
  );
}
