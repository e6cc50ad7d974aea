import { useMutation, useQuery } from '@apollo/client/react';
import { Link, useParams } from 'react-router';
import { problemOf } from '../../errors';
import { BusyButton, ConfirmButton } from '../../ui/buttons';
import { ErrorAlert, Loading, Notice, PageHeader } from '../../ui/status';
import { useAction } from '../../ui/useAction';
import { useLocationNotice } from '../patients/PatientsList';
import { DoctorForm } from './DoctorForm';
import { ActivateDoctorDocument, DeactivateDoctorDocument, DoctorDetailDocument } from './operations';
import { ScheduleEditor } from './ScheduleEditor';

function BackLink() {
  return (
    <p className="mb-2">
      <Link to="/doctors">← All doctors</Link>
    </p>
  );
}

/** One doctor: details, active or not, weekly schedule. */
export function DoctorPage() {
  const { id = '' } = useParams();
  const [notice, dismiss] = useLocationNotice();
  const { data, loading, error } = useQuery(DoctorDetailDocument, { variables: { id } });
  const [deactivate] = useMutation(DeactivateDoctorDocument);
  const [activate] = useMutation(ActivateDoctorDocument);
  const refetchQueries = ['DoctorsList', 'DoctorSpecialties'];
  const toggle = useAction(async (key: string, active: boolean) => {
    const options = { variables: { id }, context: { idempotencyKey: key }, refetchQueries };
    if (active) await activate(options);
    else await deactivate(options);
  });
  const doctor = data?.doctor;
  if (!doctor) {
    return (
      <section>
        <BackLink />
        <PageHeader title="Doctor" />
        <ErrorAlert problem={error ? problemOf(error) : null} />
        {loading && <Loading what="Loading the doctor" />}
      </section>
    );
  }
  return (
    <section>
      <BackLink />
      <PageHeader title={doctor.name}>
        <span className={`badge ${doctor.active ? 'text-bg-success' : 'text-bg-secondary'}`} id="doctor-status">
          {doctor.active ? 'Active' : 'Inactive'}
        </span>
        {doctor.active ? (
          <ConfirmButton
            label="Deactivate"
            question={`Deactivate ${doctor.name}? They keep their history but take no new bookings.`}
            confirmLabel="Yes, deactivate"
            busy={toggle.busy}
            onConfirm={() => void toggle.run(false)}
          />
        ) : (
          <BusyButton className="btn btn-outline-success" busy={toggle.busy} onClick={() => void toggle.run(true)}>
            Activate
          </BusyButton>
        )}
      </PageHeader>
      <Notice text={notice} onDismiss={dismiss} />
      <ErrorAlert problem={toggle.problem} />
      {!doctor.active && <p className="alert alert-secondary">This doctor is inactive: they offer no slots and take no bookings until activated again.</p>}
      <section className="mb-4" aria-labelledby="details-heading">
        <h2 className="h5" id="details-heading">
          Details
        </h2>
        <DoctorForm key={doctor.id} doctor={doctor} />
      </section>
      <section className="mb-4" aria-labelledby="schedule-heading">
        <h2 className="h5" id="schedule-heading">
          Weekly schedule
        </h2>
        <ScheduleEditor key={`${doctor.id}-${doctor.timeZone}`} doctor={doctor} />
      </section>
    </section>
  );
}

export function NewDoctorPage() {
  return (
    <section>
      <BackLink />
      <PageHeader title="Add a doctor" />
      <DoctorForm />
    </section>
  );
}
