import { useQuery } from '@apollo/client/react';
import { useId, useMemo, useState } from 'react';
import { problemOf } from '../../errors';
import { MoreButton } from '../../ui/buttons';
import { ErrorAlert, Loading } from '../../ui/status';
import { Chosen, type Picked } from '../../ui/pickers';
import { AdminDoctorChoicesDocument } from './operations';

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
