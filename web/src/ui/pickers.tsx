/** The pieces the pickers share (ui/PatientPicker.tsx, ui/DoctorPicker.tsx and the pharmacy's). */

export interface Picked {
  id: string;
  name: string;
}

/** What is picked, with a button to pick another. */
export function Chosen({ what, picked, onClear }: { what: string; picked: Picked; onClear: () => void }) {
  return (
    <div className="d-flex flex-wrap align-items-center gap-2">
      <span>
        {what}: <strong>{picked.name}</strong>
      </span>
      <button type="button" className="btn btn-sm btn-outline-secondary" onClick={onClear}>
        Choose another {what.toLowerCase()}
      </button>
    </div>
  );
}

/** A search box with its label and, when given, a hint tied to it (aria-describedby). */
export function SearchField({
  id,
  label,
  hint,
  hintId = `${id}-hint`,
  placeholder,
  value,
  onChange,
}: {
  id: string;
  label: string;
  hint?: string;
  hintId?: string;
  placeholder?: string;
  value: string;
  onChange: (text: string) => void;
}) {
  return (
    <>
      <label className="form-label" htmlFor={id}>
        {label}
      </label>
      <input
        id={id}
        className="form-control"
        type="search"
        autoComplete="off"
        placeholder={placeholder}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-describedby={hint ? hintId : undefined}
      />
      {hint && (
        <div className="form-text" id={hintId}>
          {hint}
        </div>
      )}
    </>
  );
}
