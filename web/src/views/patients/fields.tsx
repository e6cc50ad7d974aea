import type { InputHTMLAttributes, ReactNode, SelectHTMLAttributes, TextareaHTMLAttributes } from 'react';
import type { Problem } from '../../errors';

/**
 * Form pieces of the clinical areas (patients, doctors): every input with its <label>, its hint and
 * its problem in words tied to it (aria-describedby), Bootstrap's invalid styling.
 */

export type FieldErrors = Record<string, string>;

function describedBy(id: string, hint?: ReactNode, error?: string): string | undefined {
  const ids = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean);
  return ids.length ? ids.join(' ') : undefined;
}

function Help({ id, hint, error }: { id: string; hint?: ReactNode; error?: string }) {
  return (
    <>
      {hint && (
        <div className="form-text" id={`${id}-hint`}>
          {hint}
        </div>
      )}
      {error && (
        <div className="invalid-feedback d-block" id={`${id}-error`}>
          {error}
        </div>
      )}
    </>
  );
}

interface Common {
  id: string;
  label: string;
  hint?: ReactNode;
  error?: string;
  /** Bootstrap column classes of the wrapper. */
  col?: string;
}

/** A field's column: its label ("(required)" when it is), the control, its hint and its problem. */
function Field({ id, label, hint, error, col, required, children }: Common & { required?: boolean; children: ReactNode }) {
  return (
    <div className={col}>
      <label className="form-label" htmlFor={id}>
        {label}
        {required && <span className="text-danger-emphasis"> (required)</span>}
      </label>
      {children}
      <Help id={id} hint={hint} error={error} />
    </div>
  );
}

/** What every control of a Field carries: its id, Bootstrap's invalid styling, its description. */
function controlOf(id: string, className: string, hint: ReactNode, error: string | undefined, required?: boolean) {
  return {
    id,
    className: `${className}${error ? ' is-invalid' : ''}`,
    'aria-invalid': error ? true : undefined,
    'aria-required': required || undefined,
    'aria-describedby': describedBy(id, hint, error),
  };
}

export function TextField({ id, label, hint, error, col = 'col-12 col-md-6', required, ...input }: Common & InputHTMLAttributes<HTMLInputElement>) {
  return (
    <Field id={id} label={label} hint={hint} error={error} col={col} required={required}>
      <input {...controlOf(id, 'form-control', hint, error, required)} {...input} />
    </Field>
  );
}

export function SelectField({ id, label, hint, error, col = 'col-12 col-md-6', required, children, ...select }: Common & SelectHTMLAttributes<HTMLSelectElement>) {
  return (
    <Field id={id} label={label} hint={hint} error={error} col={col} required={required}>
      <select {...controlOf(id, 'form-select', hint, error, required)} {...select}>
        {children}
      </select>
    </Field>
  );
}

export function TextAreaField({ id, label, hint, error, col = 'col-12', ...area }: Common & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  return (
    <Field id={id} label={label} hint={hint} error={error} col={col}>
      <textarea {...controlOf(id, 'form-control', hint, error)} {...area} />
    </Field>
  );
}

/** Shown above a form whose fields need correcting (each field says what). */
export function FixFields({ errors }: { errors: FieldErrors }) {
  const count = Object.keys(errors).length;
  if (count === 0) return null;
  return (
    <div className="alert alert-warning" role="alert">
      {count === 1 ? 'One field needs correcting' : `${count} fields need correcting`}: {Object.values(errors).join(' ')}
    </div>
  );
}

const E164 = /^\+[1-9]\d{6,14}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** A phone number as the graph stores it: spaces, dashes, dots and brackets dropped. */
export function cleanPhone(value: string): string {
  return value.replace(/[\s\-().]/g, '');
}

export function phoneProblem(value: string, label = 'Phone'): string | undefined {
  const v = cleanPhone(value);
  if (!v) return undefined;
  return E164.test(v) ? undefined : `${label}: write it in international form with the country code, like +49 30 123456.`;
}

export function emailProblem(value: string, label = 'Email'): string | undefined {
  const v = value.trim();
  if (!v) return undefined;
  return EMAIL.test(v) ? undefined : `${label}: this does not look like an email address (name@example.org).`;
}

/** IANA zones the browser knows, for a zone select (UTC included). */
export const TIME_ZONES: readonly string[] = (() => {
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return zones.includes('UTC') ? zones : [...zones, 'UTC'];
})();

/**
 * A graph's refusal in words: the field names and paths in its message (`dateOfBirth`,
 * `input.emergencyContact.phone`) replaced by the labels the person sees on the form.
 */
export function inWords(problem: Problem | null, labels: Record<string, string>): Problem | null {
  if (!problem) return null;
  let message = problem.message;
  const coercion = /got invalid value .* at "(?:input\.)?([\w.[\]]+)"/.exec(message);
  if (coercion) {
    const label = labels[coercion[1]!] ?? labels[coercion[1]!.split('.').pop()!] ?? coercion[1]!;
    return { ...problem, message: `${label}: this value is not valid. Please check it.` };
  }
  // The graph's own messages start with the field they are about.
  const lead = /^([A-Za-z][\w.]*(?:\[\d+\])?(?:\.[\w]+)?)\b/.exec(message);
  // problemOf capitalised the message's first letter.
  const label = lead ? labels[lead[1]![0]!.toLowerCase() + lead[1]!.slice(1)] : undefined;
  if (lead && label) message = label + message.slice(lead[1]!.length);
  return { ...problem, message: message.length > 0 ? message[0]!.toUpperCase() + message.slice(1) : message };
}
