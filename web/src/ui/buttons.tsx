import { useState, type ButtonHTMLAttributes, type ReactNode } from 'react';

type ButtonProps = ButtonHTMLAttributes<HTMLButtonElement> & { busy?: boolean; children: ReactNode };

/** A button that is disabled and shows a spinner while its request runs. */
export function BusyButton({ busy = false, disabled, children, className = 'btn btn-primary', type = 'button', ...rest }: ButtonProps) {
  return (
    <button type={type} className={className} disabled={busy || disabled} aria-busy={busy || undefined} {...rest}>
      {busy && <span className="spinner-border spinner-border-sm me-1" aria-hidden="true" />}
      {children}
    </button>
  );
}

/** A form's submit button (disabled in flight). */
export function SubmitButton(props: Omit<ButtonProps, 'type'>) {
  return <BusyButton type="submit" {...props} />;
}

/**
 * A destructive action asked twice: the first press shows the question with "Yes" and "Keep",
 * only "Yes" runs `onConfirm`.
 */
export function ConfirmButton({
  label,
  question,
  confirmLabel,
  onConfirm,
  busy = false,
  className = 'btn btn-outline-danger',
}: {
  label: string;
  question: string;
  confirmLabel: string;
  onConfirm: () => void;
  busy?: boolean;
  className?: string;
}) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button type="button" className={className} onClick={() => setAsking(true)} disabled={busy}>
        {label}
      </button>
    );
  }
  return (
    <div className="d-flex flex-wrap align-items-center gap-2" role="group" aria-label={question}>
      <span>{question}</span>
      <BusyButton className="btn btn-danger" busy={busy} onClick={onConfirm}>
        {confirmLabel}
      </BusyButton>
      <button type="button" className="btn btn-outline-secondary" onClick={() => setAsking(false)} disabled={busy}>
        Keep
      </button>
    </div>
  );
}

/** "Show more" under a paged list (relay-style `pageInfo`). */
export function MoreButton({ pageInfo, loading, onMore }: { pageInfo: { hasNextPage: boolean; endCursor?: string | null } | undefined; loading: boolean; onMore: (after: string) => void }) {
  if (!pageInfo?.hasNextPage || !pageInfo.endCursor) return null;
  const after = pageInfo.endCursor;
  return (
    <div className="text-center my-3">
      <BusyButton className="btn btn-outline-secondary" busy={loading} onClick={() => onMore(after)}>
        Show more
      </BusyButton>
    </div>
  );
}
