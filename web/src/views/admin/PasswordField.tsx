import { MIN_PASSWORD } from './labels';

/** A new password's label and input (at least MIN_PASSWORD characters), described by the hint the caller places at `${id}-help`. */
export function PasswordField({ id, label, value, onChange }: { id: string; label: string; value: string; onChange: (password: string) => void }) {
  return (
    <>
      <label className="form-label" htmlFor={id}>
        {label}
      </label>
      <input
        id={id}
        className="form-control"
        type="password"
        required
        minLength={MIN_PASSWORD}
        autoComplete="new-password"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-describedby={`${id}-help`}
      />
    </>
  );
}
