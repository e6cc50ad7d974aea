import { useQuery } from '@apollo/client/react';
import { useEffect, useId, useMemo, useState } from 'react';
import { problemOf } from '../../errors';
import { MoreButton } from '../../ui/buttons';
import { ErrorAlert, Loading } from '../../ui/status';
import { AdminDoctorChoicesDocument, AdminPatientSearchDocument } from './operations';

export interface Picked {
  id: string;
  name: string;
}

/** The text typed, settled for a moment (one search per pause in typing, not per key). */
function useSettled(text: string, ms = 250): string {
  const [settled, setSettled] = useState(text);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(text), ms);
    return () => clearTimeout(timer);
  }, [text, ms]);
  return settled;
}

/** What is picked, with a button to pick another. */
function Chosen({ what, picked, onClear }: { what: string; picked: Picked; onClear: () => void }) {
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

/** A patient picked by name: type the start of a first or last name (or the email), choose one. */
export function PatientPicker({ value, onChange, label = 'Patient' }: { value: Picked | null; onChange: (p: Picked | null) => void; label?: string }) {
  const id = useId();
  const [text, setText] = useState('');
  const search = useSettled(text.trim());
  const { data, loading, error, fetchMore } = useQuery(AdminPatientSearchDocument, { variables: { search }, skip: value !== null || search.length < 2 });
  if (value) return <Chosen what={label} picked={value} onClear={() => onChange(null)} />;
  const found = search.length >= 2 ? (data?.patients.edges.map((e) => e.node) ?? []) : [];
  return (
    <div className="picker">
      <label className="form-label" htmlFor={`${id}-search`}>
        {label}: search by name
      </label>
      <input id={`${id}-search`} className="form-control" type="search" autoComplete="off" value={text} onChange={(e) => setText(e.target.value)} aria-describedby={`${id}-help`} />
      <div className="form-text" id={`${id}-help`}>
        Type at least two letters of the first or last name, then choose the patient.
      </div>
      <ErrorAlert problem={error ? problemOf(error) : null} />
      {loading && !data && search.length >= 2 && <Loading what="Searching patients" />}
      {data && search.length >= 2 && found.length === 0 && <p className="text-muted my-2">No patient’s name starts with “{search}”.</p>}
      {found.length > 0 && (
        <ul className="list-unstyled d-flex flex-wrap gap-2 my-2" aria-label={`Patients matching ${search}`}>
          {found.map((p) => (
            <li key={p.id}>
              <button type="button" className="btn btn-sm btn-outline-primary" onClick={() => onChange({ id: p.id, name: p.name })}>
                {p.name} <span className="visually-hidden">born </span>
                <small>({p.dateOfBirth})</small>
              </button>
            </li>
          ))}
        </ul>
      )}
      <MoreButton pageInfo={search.length >= 2 ? data?.patients.pageInfo : undefined} loading={loading} onMore={(after) => void fetchMore({ variables: { after } })} />
    </div>
  );
}

/** A doctor picked by name (the graph lists doctors without a name search: they are filtered here). */
export function DoctorPicker({ value, onChange }: { value: Picked | null; onChange: (p: Picked | null) => void }) {
  const id = useId();
  const [text, setText] = useState('');
  const { data, loading, error, fetchMore } = useQuery(AdminDoctorChoicesDocument, { skip: value !== null });
  const found = useMemo(() => {
    const words = text.trim().toLowerCase();
    const all = data?.doctors.edges.map((e) => e.node) ?? [];
    return (words ? all.filter((d) => d.name.toLowerCase().includes(words) || d.specialty.toLowerCase().includes(words)) : all).slice(0, 12);
  }, [data, text]);
  if (value) return <Chosen what="Doctor" picked={value} onClear={() => onChange(null)} />;
  return (
    <div className="picker">
      <label className="form-label" htmlFor={`${id}-search`}>
        Doctor: search by name
      </label>
      <input id={`${id}-search`} className="form-control" type="search" autoComplete="off" value={text} onChange={(e) => setText(e.target.value)} aria-describedby={`${id}-help`} />
      <div className="form-text" id={`${id}-help`}>
        Type part of the doctor’s name or specialty, then choose the doctor.
      </div>
      <ErrorAlert problem={error ? problemOf(error) : null} />
      {loading && !data && <Loading what="Loading doctors" />}
      {data && found.length === 0 && <p className="text-muted my-2">No doctor matches “{text.trim()}”.</p>}
      {found.length > 0 && (
        <ul className="list-unstyled d-flex flex-wrap gap-2 my-2" aria-label="Doctors">
          {found.map((d) => (
            <li key={d.id}>
              <button type="button" className="btn btn-sm btn-outline-primary" onClick={() => onChange({ id: d.id, name: d.name })}>
                {d.name} <small>({d.specialty})</small>
              </button>
            </li>
          ))}
        </ul>
      )}
      <MoreButton pageInfo={data?.doctors.pageInfo} loading={loading} onMore={(after) => void fetchMore({ variables: { after } })} />
    </div>
  );
}
