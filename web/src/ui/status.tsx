import type { ReactNode } from 'react';
import type { Problem } from '../errors';

/** A spinner with words, announced to screen readers. */
export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <div className="d-flex align-items-center gap-2 text-muted my-3" role="status">
      <span className="spinner-border spinner-border-sm" aria-hidden="true" />
      <span>{what}…</span>
    </div>
  );
}

/** What an empty list means, in words. */
export function Empty({ children }: { children: ReactNode }) {
  return <p className="text-muted my-3 empty-state">{children}</p>;
}

/** A problem, written for people (see errors.ts). */
export function ErrorAlert({ problem, onDismiss }: { problem: Problem | null; onDismiss?: () => void }) {
  if (!problem) return null;
  return (
    <div className="alert alert-danger d-flex align-items-start gap-2" role="alert">
      <span className="me-auto">{problem.message}</span>
      {onDismiss && <button type="button" className="btn-close" aria-label="Dismiss" onClick={onDismiss} />}
    </div>
  );
}

/** A success message that screen readers announce. */
export function Notice({ text, onDismiss }: { text: string | null; onDismiss?: () => void }) {
  if (!text) return null;
  return (
    <div className="alert alert-success d-flex align-items-start gap-2" role="status">
      <span className="me-auto">{text}</span>
      {onDismiss && <button type="button" className="btn-close" aria-label="Dismiss" onClick={onDismiss} />}
    </div>
  );
}

/** A page heading with optional tools at its right (they wrap under it on a phone). */
export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="d-flex flex-wrap align-items-end gap-2 mb-3 page-header">
      <h1 className="h4 mb-0 me-auto">{title}</h1>
      {children}
    </div>
  );
}
