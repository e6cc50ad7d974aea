import { useQuery } from '@apollo/client/react';
import { useId, useMemo, useState } from 'react';
import { problemOf } from '../errors';
import { graphql } from '../gql';
import type { PickDoctorsQuery } from '../gql/graphql';
import { MoreButton } from './buttons';
import { Chosen, SearchField, type Picked } from './pickers';
import { ErrorAlert, Loading } from './status';

/** The active doctors to pick from, of one specialty when given, 100 at a time. */
export const PickDoctorsDocument = graphql(`
  query PickDoctors($specialty: String, $after: String) {
    doctors(specialty: $specialty, includeInactive: false, first: 100, after: $after) {
      edges {
        node {
          id
          name
          specialty
          timeZone
        }
      }
      pageInfo {
        ...ShowMoreFields
      }
    }
  }
`);

export type DoctorChoice = PickDoctorsQuery['doctors']['edges'][number]['node'];

/** The doctors to pick from (PickDoctors), as a list, with the query's state and "Show more". */
export function useDoctorChoices({ specialty, skip = false }: { specialty?: string | null; skip?: boolean } = {}) {
  const result = useQuery(PickDoctorsDocument, { variables: { specialty }, skip });
  const doctors = useMemo(() => result.data?.doctors.edges.map((e) => e.node) ?? [], [result.data]);
  return { ...result, doctors, onMore: (after: string) => void result.fetchMore({ variables: { after } }) };
}

/** A select's options, one a doctor: "Name · Specialty". */
export function DoctorOptions({ doctors }: { doctors: readonly DoctorChoice[] }) {
  return doctors.map((d) => (
    <option key={d.id} value={d.id}>
      {d.name} · {d.specialty}
    </option>
  ));
}

/**
 * A doctor picked by name. `buttons` (the admin's forms): type part of the name or specialty (the
 * graph lists doctors without a name search: they are filtered here), choose one of the buttons;
 * once picked, the name with "Choose another". `select` (booking): a select of the doctors of
 * `specialty` (or all), in a column of the caller's Bootstrap row.
 */
export function DoctorPicker({ value, onChange, look = 'buttons', specialty }: { value: Picked | null; onChange: (d: DoctorChoice | null) => void; look?: 'buttons' | 'select'; specialty?: string | null }) {
  const id = useId();
  const [text, setText] = useState('');
  const { data, loading, error, doctors, onMore } = useDoctorChoices({ specialty, skip: look === 'buttons' && value !== null });
  const words = text.trim().toLowerCase();
  const found = (words ? doctors.filter((d) => d.name.toLowerCase().includes(words) || d.specialty.toLowerCase().includes(words)) : doctors).slice(0, 12);
  const problem = <ErrorAlert problem={error ? problemOf(error) : null} />;
  const more = <MoreButton pageInfo={data?.doctors.pageInfo} loading={loading} onMore={onMore} />;
  if (look === 'select') {
    return (
      <>
        <div className="col-12 col-md-6">
          <label className="form-label" htmlFor={`${id}-doctor`}>
            Doctor
          </label>
          <select className="form-select" id={`${id}-doctor`} value={value?.id ?? ''} required onChange={(e) => onChange(doctors.find((d) => d.id === e.target.value) ?? null)}>
            <option value="">{data ? (doctors.length === 0 ? 'No doctor of this specialty' : 'Choose a doctor') : 'Loading doctors…'}</option>
            <DoctorOptions doctors={doctors} />
          </select>
        </div>
        {problem}
        {more}
      </>
    );
  }
  if (value) return <Chosen what="Doctor" picked={value} onClear={() => onChange(null)} />;
  return (
    <div className="picker">
      <SearchField id={`${id}-search`} label="Doctor: search by name" hint="Type part of the doctor’s name or specialty, then choose the doctor." value={text} onChange={setText} />
      {problem}
      {loading && !data && <Loading what="Loading doctors" />}
      {data && found.length === 0 && <p className="text-muted my-2">No doctor matches “{text.trim()}”.</p>}
      {found.length > 0 && (
        <ul className="list-unstyled d-flex flex-wrap gap-2 my-2" aria-label="Doctors">
          {found.map((d) => (
            <li key={d.id}>
              <button type="button" className="btn btn-sm btn-outline-primary" onClick={() => onChange(d)}>
                {d.name} <small>({d.specialty})</small>
              </button>
            </li>
          ))}
        </ul>
      )}
      {more}
    </div>
  );
}
