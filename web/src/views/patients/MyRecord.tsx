import { useQuery } from '@apollo/client/react';
import { problemOf } from '../../errors';
import { useUser } from '../../session';
import { Empty, ErrorAlert, Loading, PageHeader } from '../../ui/status';
import { PatientRecordDocument } from './operations';
import { Allergies, Demographics, LabResults, MedicalHistory, useClinicalZone, VisitSummary } from './PatientRecord';

function Record({ id }: { id: string }) {
  const zone = useClinicalZone();
  const { data, loading, error } = useQuery(PatientRecordDocument, { variables: { id } });
  const patient = data?.patient;
  return (
    <>
      <ErrorAlert problem={error ? problemOf(error) : null} />
      {loading && !patient && <Loading what="Loading your record" />}
      {patient && (
        <>
          <p className="text-muted">Your record as the clinic keeps it. If something is wrong, tell the clinic at your next visit.</p>
          <Demographics patient={patient} />
          <Allergies allergies={patient.allergies} />
          <MedicalHistory patient={patient} canAdd={false} zone={zone} />
          <LabResults patient={patient} canAdd={false} zone={zone} />
          <VisitSummary patientId={id} />
        </>
      )}
    </>
  );
}

/** A patient's own record, read only. */
export function MyRecord() {
  const { patientId } = useUser();
  return (
    <section>
      <PageHeader title="My record" />
      {patientId ? <Record id={patientId} /> : <Empty>Your account is not linked to a patient record yet. Please ask the clinic.</Empty>}
    </section>
  );
}
