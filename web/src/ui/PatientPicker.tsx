import { useQuery } from '@apollo/client/react';
import { useId, useState } from 'react';
import { problemOf } from '../errors';
import { graphql } from '../gql';
import { dateLabel } from '../time';
import { MoreButton } from './buttons';
import { Chosen, SearchField, type Picked } from './pickers';
import { Empty, ErrorAlert, Loading } from './status';
import { useSettled } from './useSettled';

/** Patients by the start of the first or last name, or the email (a doctor: only those they treat), 10 at a time. */
export const PickPatientsDocument = graphql(`
  query PickPatients($search: String, $after: String) {
    patients(search: $search, first: 10, after: $after) {
      edges {
        node {
          id
          name
          dateOfBirth
        }
      }
      pageInfo {
        ...ShowMoreFields
      }
    }
  }
`);

/**
 * How the picker offers the patients:
 * - `buttons`: after two letters typed, the matches as buttons; once one is picked, its name with
 *   "Choose another" (the admin's forms);
 * - `list`: every patient from the start, narrowed as one types, each with a Choose button; the
 *   caller shows the one picked instead of the picker (booking).
 */
const LOOKS = {
  buttons: { minLength: 2, keepPrevious: false },
  list: { minLength: 0, keepPrevious: true },
} as const;

/** A patient picked by name: type the start of a first or last name (or the email), choose one. */
export function PatientPicker({ value, onChange, label = 'Patient', look = 'buttons' }: { value: Picked | null; onChange: (p: Picked | null) => void; label?: string; look?: keyof typeof LOOKS }) {
  const id = useId();
  const [text, setText] = useState('');
  const search = useSettled(text.trim(), 250);
  const { minLength, keepPrevious } = LOOKS[look];
  const short = search.length < minLength;
  const result = useQuery(PickPatientsDocument, { variables: { search: search || null }, skip: value !== null || short });
  const { loading, error, fetchMore } = result;
  // In a list the last answer stays while the next search runs (no flicker while typing).
  const data = short ? undefined : keepPrevious ? (result.data ?? result.previousData) : result.data;
  const found = data?.patients.edges.map((e) => e.node) ?? [];
  if (value) return look === 'buttons' ? <Chosen what={label} picked={value} onClear={() => onChange(null)} /> : null;
  const pick = (p: Picked) => onChange({ id: p.id, name: p.name });
  return (
    <div className={look === 'buttons' ? 'picker' : 'mb-3'}>
      {look === 'buttons' ? (
        <SearchField id={`${id}-search`} label={`${label}: search by name`} hint="Type at least two letters of the first or last name, then choose the patient." value={text} onChange={setText} />
      ) : (
        <SearchField id={`${id}-search`} label="Find the patient" placeholder="First or last name, or email" value={text} onChange={setText} />
      )}
      <ErrorAlert problem={error ? problemOf(error) : null} />
      {loading && !data && !short && <Loading what="Searching patients" />}
      {result.data && !short && found.length === 0 && (look === 'buttons' ? <p className="text-muted my-2">No patient’s name starts with “{search}”.</p> : <Empty>{search ? `No patient matches “${search}”.` : 'No patients yet.'}</Empty>)}
      {found.length > 0 &&
        (look === 'buttons' ? (
          <ul className="list-unstyled d-flex flex-wrap gap-2 my-2" aria-label={`Patients matching ${search}`}>
            {found.map((p) => (
              <li key={p.id}>
                <button type="button" className="btn btn-sm btn-outline-primary" onClick={() => pick(p)}>
                  {p.name} <span className="visually-hidden">born </span>
                  <small>({p.dateOfBirth})</small>
                </button>
              </li>
            ))}
          </ul>
        ) : (
          <ul className="list-group mt-2" id="patient-results" aria-label="Matching patients">
            {found.map((p) => (
              <li key={p.id} className="list-group-item d-flex flex-wrap align-items-center gap-2">
                <span className="me-auto">
                  {p.name} <span className="text-muted small">born {dateLabel(p.dateOfBirth)}</span>
                </span>
                <button type="button" className="btn btn-sm btn-outline-primary" onClick={() => pick(p)} aria-label={`Choose ${p.name}`}>
                  Choose
                </button>
              </li>
            ))}
          </ul>
        ))}
      <MoreButton pageInfo={data?.patients.pageInfo} loading={loading} onMore={(after) => void fetchMore({ variables: { after } })} />
    </div>
  );
}
