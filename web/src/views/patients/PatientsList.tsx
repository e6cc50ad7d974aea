import { useQuery } from '@apollo/client/react';
import { useEffect, useState } from 'react';
import { Link, useLocation } from 'react-router';
import { problemOf } from '../../errors';
import { useUser } from '../../session';
import { dateLabel } from '../../time';
import { MoreButton } from '../../ui/buttons';
import { Empty, ErrorAlert, Loading, Notice, PageHeader } from '../../ui/status';
import { PatientsSearchDocument } from './operations';
import { SEX_NAME } from './PatientForm';

export const MANAGER_ROLES = new Set(['SUPER_ADMIN', 'ADMIN']);

/** What a page after a change tells the person (passed in the location's state). */
export function useLocationNotice(): [string | null, () => void] {
  const location = useLocation();
  const state = location.state as { notice?: string } | null;
  const [notice, setNotice] = useState<string | null>(state?.notice ?? null);
  useEffect(() => setNotice(state?.notice ?? null), [state]);
  return [notice, () => setNotice(null)];
}

/** Search patients by name (a doctor: only the patients they treat). */
export function PatientsList() {
  const user = useUser();
  const manager = MANAGER_ROLES.has(user.role);
  const [notice, dismiss] = useLocationNotice();
  const [text, setText] = useState('');
  const [search, setSearch] = useState('');
  useEffect(() => {
    const timer = setTimeout(() => setSearch(text.trim()), 300);
    return () => clearTimeout(timer);
  }, [text]);
  const { data, loading, error, fetchMore } = useQuery(PatientsSearchDocument, { variables: { search: search || null } });
  const patients = data?.patients.edges.map((e) => e.node) ?? [];
  const searching = text.trim() !== search || (loading && !data);
  return (
    <section>
      <PageHeader title="Patients">
        {manager && (
          <Link className="btn btn-primary" to="/patients/new">
            Register a patient
          </Link>
        )}
      </PageHeader>
      <Notice text={notice} onDismiss={dismiss} />
      {user.role === 'DOCTOR' && <p className="text-muted">The patients you treat: anyone with an appointment with you.</p>}
      <form className="mb-3" role="search" onSubmit={(e) => (e.preventDefault(), setSearch(text.trim()))}>
        <label className="form-label" htmlFor="patient-search">
          Search by name or email
        </label>
        <input id="patient-search" type="search" className="form-control" placeholder="Start of a first or last name" value={text} onChange={(e) => setText(e.target.value)} autoComplete="off" />
      </form>
      <ErrorAlert problem={error ? problemOf(error) : null} />
      {searching && <Loading what={search || text.trim() ? 'Searching' : 'Loading patients'} />}
      {!searching && data && patients.length === 0 && (
        <Empty>{search ? `No patient's name or email starts with “${search}”.` : user.role === 'DOCTOR' ? 'You have no patients yet. They appear once they have an appointment with you.' : 'No patients registered yet.'}</Empty>
      )}
      {!searching && patients.length > 0 && (
        <table className="table table-cards align-middle" id="patient-list">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Date of birth</th>
              <th scope="col">Sex</th>
              <th scope="col">Contact</th>
            </tr>
          </thead>
          <tbody>
            {patients.map((p) => (
              <tr key={p.id}>
                <td data-label="Name">
                  <Link to={`/patients/${p.id}`}>{p.name}</Link>
                </td>
                <td data-label="Date of birth">{dateLabel(p.dateOfBirth)}</td>
                <td data-label="Sex">{SEX_NAME[p.sex]}</td>
                <td data-label="Contact">{[p.email, p.phone].filter(Boolean).join(' · ') || '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {!searching && <MoreButton pageInfo={data?.patients.pageInfo} loading={loading} onMore={(after) => void fetchMore({ variables: { after } })} />}
    </section>
  );
}
