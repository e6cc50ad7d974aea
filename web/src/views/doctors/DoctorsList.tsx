import { useQuery } from '@apollo/client/react';
import { useState } from 'react';
import { Link } from 'react-router';
import { problemOf } from '../../errors';
import { MoreButton } from '../../ui/buttons';
import { Empty, ErrorAlert, Loading, Notice, PageHeader } from '../../ui/status';
import { useLocationNotice } from '../patients/PatientsList';
import { DoctorSpecialtiesDocument, DoctorsListDocument } from './operations';

/** The clinic's doctors, by specialty, active ones or all. */
export function DoctorsList() {
  const [notice, dismiss] = useLocationNotice();
  const [specialty, setSpecialty] = useState('');
  const [includeInactive, setIncludeInactive] = useState(false);
  const specialties = useQuery(DoctorSpecialtiesDocument);
  const { data, loading, error, fetchMore } = useQuery(DoctorsListDocument, { variables: { specialty: specialty || null, includeInactive } });
  const doctors = data?.doctors.edges.map((e) => e.node) ?? [];
  return (
    <section>
      <PageHeader title="Doctors">
        <Link className="btn btn-primary" to="/doctors/new">
          Add a doctor
        </Link>
      </PageHeader>
      <Notice text={notice} onDismiss={dismiss} />
      <div className="row g-3 align-items-end mb-3">
        <div className="col-12 col-md-6">
          <label className="form-label" htmlFor="doctor-specialty">
            Specialty
          </label>
          <select id="doctor-specialty" className="form-select" value={specialty} onChange={(e) => setSpecialty(e.target.value)}>
            <option value="">All specialties</option>
            {(specialties.data?.specialties ?? []).map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div className="col-12 col-md-6">
          <div className="form-check">
            <input id="doctor-inactive" className="form-check-input" type="checkbox" checked={includeInactive} onChange={(e) => setIncludeInactive(e.target.checked)} />
            <label className="form-check-label" htmlFor="doctor-inactive">
              Include inactive doctors
            </label>
          </div>
        </div>
      </div>
      <ErrorAlert problem={error ? problemOf(error) : null} />
      {loading && !data && <Loading what="Loading doctors" />}
      {data && doctors.length === 0 && <Empty>{specialty ? `No ${includeInactive ? '' : 'active '}doctors in ${specialty}.` : 'No doctors yet. Add the first one.'}</Empty>}
      {doctors.length > 0 && (
        <table className="table table-cards align-middle" id="doctor-list">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Specialty</th>
              <th scope="col">Time zone</th>
              <th scope="col">Contact</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {doctors.map((d) => (
              <tr key={d.id}>
                <td data-label="Name">
                  <Link to={`/doctors/${d.id}`}>{d.name}</Link>
                </td>
                <td data-label="Specialty">{d.specialty}</td>
                <td data-label="Time zone">{d.timeZone}</td>
                <td data-label="Contact">{[d.email, d.phone].filter(Boolean).join(' · ') || '—'}</td>
                <td data-label="Status">{d.active ? <span className="badge text-bg-success">Active</span> : <span className="badge text-bg-secondary">Inactive</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <MoreButton pageInfo={data?.doctors.pageInfo} loading={loading} onMore={(after) => void fetchMore({ variables: { after } })} />
    </section>
  );
}
