import { useApolloClient, useMutation, useQuery } from '@apollo/client/react';
import { Link, useNavigate, useParams } from 'react-router';
import { problemOf } from '../../errors';
import { useUser } from '../../session';
import { ConfirmButton } from '../../ui/buttons';
import { ErrorAlert, Loading, Notice, PageHeader } from '../../ui/status';
import { useAction } from '../../ui/useAction';
import { DeletePatientDocument, PatientRecordDocument } from './operations';
import { PatientForm } from './PatientForm';
import { Allergies, Demographics, LabResults, MedicalHistory, useClinicalZone, VisitSummary } from './PatientRecord';
import { MANAGER_ROLES, useLocationNotice } from './PatientsList';

function BackLink() {
  return (
    <p className="mb-2">
      <Link to="/patients">← All patients</Link>
    </p>
  );
}

/** One patient's record; what the role may change shows as buttons (the graph decides the same). */
export function PatientPage() {
  const { id = '' } = useParams();
  const user = useUser();
  const zone = useClinicalZone();
  const navigate = useNavigate();
  const client = useApolloClient();
  const manager = MANAGER_ROLES.has(user.role);
  const canAddClinical = manager || user.role === 'DOCTOR';
  const [notice, dismiss] = useLocationNotice();
  const { data, loading, error } = useQuery(PatientRecordDocument, { variables: { id } });
  const [erase] = useMutation(DeletePatientDocument);
  const eraseAction = useAction(async (key: string) => {
    const name = data?.patient.name ?? 'The patient';
    await erase({ variables: { id }, context: { idempotencyKey: key } });
    client.cache.evict({ id: client.cache.identify({ __typename: 'Patient', id }) });
    client.cache.gc();
    await navigate('/patients', { state: { notice: `${name}'s record was erased.` } });
  });
  const patient = data?.patient;
  if (!patient) {
    return (
      <section>
        <BackLink />
        <PageHeader title="Patient" />
        <ErrorAlert problem={error ? problemOf(error) : null} />
        {loading && <Loading what="Loading the record" />}
      </section>
    );
  }
  return (
    <section>
      <BackLink />
      <PageHeader title={patient.name}>
        {manager && (
          <div className="d-flex flex-wrap gap-2">
            <Link className="btn btn-outline-primary" to={`/patients/${id}/edit`}>
              Edit details
            </Link>
            <ConfirmButton
              label="Erase record"
              question={`Erase ${patient.name}'s whole record? This cannot be undone.`}
              confirmLabel="Yes, erase"
              busy={eraseAction.busy}
              onConfirm={() => void eraseAction.run()}
            />
          </div>
        )}
      </PageHeader>
      <Notice text={notice} onDismiss={dismiss} />
      <ErrorAlert problem={eraseAction.problem} />
      <ErrorAlert problem={error ? problemOf(error) : null} />
      <Demographics patient={patient} />
      <Allergies allergies={patient.allergies} />
      <MedicalHistory patient={patient} canAdd={canAddClinical} zone={zone} />
      <LabResults patient={patient} canAdd={canAddClinical} zone={zone} />
      {manager && <VisitSummary patientId={id} />}
    </section>
  );
}

export function EditPatientPage() {
  const { id = '' } = useParams();
  const { data, loading, error } = useQuery(PatientRecordDocument, { variables: { id } });
  const patient = data?.patient;
  return (
    <section>
      <p className="mb-2">
        <Link to={`/patients/${id}`}>← Back to the record</Link>
      </p>
      <PageHeader title={patient ? `Edit ${patient.name}` : 'Edit patient'} />
      <ErrorAlert problem={error ? problemOf(error) : null} />
      {loading && !patient && <Loading what="Loading the record" />}
      {patient && <PatientForm key={patient.id} patient={patient} />}
    </section>
  );
}

export function NewPatientPage() {
  return (
    <section>
      <BackLink />
      <PageHeader title="Register a patient" />
      <PatientForm />
    </section>
  );
}
