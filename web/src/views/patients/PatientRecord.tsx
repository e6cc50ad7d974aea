import { useMutation, useQuery } from '@apollo/client/react';
import { useState, type FormEvent, type ReactNode } from 'react';
import type { AppointmentStatus, PatientClinicalFragment, PatientDemographicsFragment } from '../../gql/graphql';
import { problemOf } from '../../errors';
import { useUser } from '../../session';
import { dateLabel, dateTimeIn, getClinicZone, instantOf, timeIn, today } from '../../time';
import { SubmitButton } from '../../ui/buttons';
import { Empty, ErrorAlert, Loading } from '../../ui/status';
import { useAction } from '../../ui/useAction';
import { FixFields, inWords, TextAreaField, TextField, type FieldErrors } from './fields';
import { RecordSection } from './RecordSection';
import { AddLabResultDocument, AddMedicalHistoryDocument, PatientVisitSummaryDocument } from './operations';
import { SEX_NAME } from './PatientForm';

function ageOn(dateOfBirth: string, on: string): number {
  const [y, m, d] = dateOfBirth.split('-').map(Number) as [number, number, number];
  const [ty, tm, td] = on.split('-').map(Number) as [number, number, number];
  return ty - y - (tm < m || (tm === m && td < d) ? 1 : 0);
}

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="col-12 col-sm-6 col-lg-4">
      <dt className="small text-muted fw-normal">{label}</dt>
      <dd className="mb-2">{children}</dd>
    </div>
  );
}

export function Demographics({ patient }: { patient: PatientDemographicsFragment }) {
  const address = patient.address;
  const contact = patient.emergencyContact;
  return (
    <section className="mb-4" aria-labelledby="demographics-heading">
      <h2 className="h5" id="demographics-heading">
        Demographics
      </h2>
      <dl className="row g-2 mb-0" id="demographics">
        <Row label="Name">{patient.name}</Row>
        <Row label="Date of birth">
          {dateLabel(patient.dateOfBirth)} ({ageOn(patient.dateOfBirth, today())} years)
        </Row>
        <Row label="Sex">{SEX_NAME[patient.sex]}</Row>
        <Row label="Email">{patient.email ?? 'Not given'}</Row>
        <Row label="Phone">{patient.phone ?? 'Not given'}</Row>
        <Row label="Time zone for reminders">{patient.timeZone ?? "The clinic's zone"}</Row>
        <Row label="Address">
          {address ? (
            <>
              {address.line1}
              {address.line2 && (
                <>
                  <br />
                  {address.line2}
                </>
              )}
              <br />
              {address.postalCode} {address.city}
              <br />
              {address.country}
            </>
          ) : (
            'Not given'
          )}
        </Row>
        <Row label="Emergency contact">{contact ? `${contact.name} (${contact.relationship}), ${contact.phone}` : 'Not given'}</Row>
      </dl>
    </section>
  );
}

export function Allergies({ allergies }: { allergies: readonly string[] }) {
  return (
    <section className="mb-4" aria-labelledby="allergies-heading">
      <h2 className="h5" id="allergies-heading">
        Allergies
      </h2>
      {allergies.length === 0 ? (
        <Empty>No known allergies.</Empty>
      ) : (
        <ul className="list-inline mb-0" id="allergies">
          {allergies.map((a) => (
            <li key={a} className="list-inline-item badge text-bg-warning fs-6 fw-normal mb-1">
              {a}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function AddHistoryForm({ patientId, onSaved, onCancel }: { patientId: string; onSaved: () => void; onCancel: () => void }) {
  const [condition, setCondition] = useState('');
  const [diagnosedOn, setDiagnosedOn] = useState('');
  const [notes, setNotes] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [add] = useMutation(AddMedicalHistoryDocument);
  const action = useAction(async (key: string) => {
    await add({
      variables: { patientId, input: { condition: condition.trim(), diagnosedOn: diagnosedOn || null, notes: notes.trim() || null } },
      context: { idempotencyKey: key },
    });
    onSaved();
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const e: FieldErrors = {};
    if (!condition.trim()) e.condition = 'Condition: please name the condition.';
    if (diagnosedOn && diagnosedOn > today()) e.diagnosedOn = 'Diagnosed on cannot be in the future.';
    setErrors(e);
    if (Object.keys(e).length === 0) void action.run();
  };
  return (
    <form id="history-form" className="card card-body mb-3" noValidate onSubmit={submit} aria-label="Add a medical history entry">
      <FixFields errors={errors} />
      <ErrorAlert problem={inWords(action.problem, { condition: 'Condition', diagnosedOn: 'Diagnosed on', notes: 'Notes' })} />
      <div className="row g-3">
        <TextField id="history-condition" label="Condition" required value={condition} onChange={(e) => setCondition(e.target.value)} error={errors.condition} />
        <TextField id="history-diagnosed" label="Diagnosed on" type="date" max={today()} value={diagnosedOn} onChange={(e) => setDiagnosedOn(e.target.value)} error={errors.diagnosedOn} />
        <TextAreaField id="history-notes" label="Notes" rows={2} value={notes} onChange={(e) => setNotes(e.target.value)} />
        <div className="col-12 d-flex flex-wrap gap-2">
          <SubmitButton busy={action.busy}>Save entry</SubmitButton>
          <button type="button" className="btn btn-outline-secondary" onClick={onCancel} disabled={action.busy}>
            Cancel
          </button>
        </div>
      </div>
    </form>
  );
}

export function MedicalHistory({ patient, canAdd, zone }: { patient: PatientClinicalFragment; canAdd: boolean; zone: string }) {
  const entries = [...patient.medicalHistory].sort((a, b) => b.recordedAt.localeCompare(a.recordedAt));
  return (
    <RecordSection
      name="history"
      title="Medical history"
      addLabel="Add history entry"
      added="History entry added."
      canAdd={canAdd}
      form={(done) => <AddHistoryForm patientId={patient.id} {...done} />}
      emptyText="No medical history recorded."
      columns={['Condition', 'Diagnosed on', 'Notes', 'Recorded']}
      rows={entries.map((h) => (
        <tr key={h.id}>
          <td data-label="Condition" className="fw-semibold">
            {h.condition}
          </td>
          <td data-label="Diagnosed on">{h.diagnosedOn ? dateLabel(h.diagnosedOn) : 'Not known'}</td>
          <td data-label="Notes">{h.notes || '—'}</td>
          <td data-label="Recorded">{dateTimeIn(h.recordedAt, zone)}</td>
        </tr>
      ))}
    />
  );
}

function AddLabForm({ patientId, zone, onSaved, onCancel }: { patientId: string; zone: string; onSaved: () => void; onCancel: () => void }) {
  const now = new Date().toISOString();
  const [v, setV] = useState({ test: '', value: '', unit: '', low: '', high: '', date: today(zone), time: timeIn(now, zone) });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [add] = useMutation(AddLabResultDocument);
  const action = useAction(async (key: string) => {
    const low = v.low.trim() === '' ? null : Number(v.low);
    const high = v.high.trim() === '' ? null : Number(v.high);
    await add({
      variables: {
        patientId,
        input: {
          test: v.test.trim(),
          value: Number(v.value),
          unit: v.unit.trim(),
          referenceRange: low === null && high === null ? null : { low, high },
          takenAt: instantOf(v.date, v.time, zone),
        },
      },
      context: { idempotencyKey: key },
    });
    onSaved();
  }, zone);
  const set = (k: keyof typeof v) => (e: { target: { value: string } }) => setV((x) => ({ ...x, [k]: e.target.value }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const e: FieldErrors = {};
    const isNumber = (s: string) => s.trim() !== '' && Number.isFinite(Number(s));
    if (!v.test.trim()) e.test = 'Test: please name the test.';
    if (!isNumber(v.value)) e.value = 'Value: please enter a number, like 5.4.';
    if (!v.unit.trim()) e.unit = 'Unit: please enter the unit, like mmol/L.';
    if (v.low.trim() && !isNumber(v.low)) e.low = 'Range low: please enter a number or leave it empty.';
    if (v.high.trim() && !isNumber(v.high)) e.high = 'Range high: please enter a number or leave it empty.';
    if (!e.low && !e.high && v.low.trim() && v.high.trim() && Number(v.low) > Number(v.high)) e.high = 'Range high must not be below range low.';
    if (!v.date || !v.time) e.date = 'Taken on: please enter the date and time the sample was taken.';
    else if (new Date(instantOf(v.date, v.time, zone)).getTime() > Date.now() + 60_000) e.date = 'Taken on cannot be in the future.';
    setErrors(e);
    if (Object.keys(e).length === 0) void action.run();
  };
  return (
    <form id="lab-form" className="card card-body mb-3" noValidate onSubmit={submit} aria-label="Add a lab result">
      <FixFields errors={errors} />
      <ErrorAlert problem={inWords(action.problem, { test: 'Test', value: 'Value', unit: 'Unit', referenceRange: 'Reference range', takenAt: 'Taken on' })} />
      <div className="row g-3">
        <TextField id="lab-test" label="Test" required value={v.test} onChange={set('test')} error={errors.test} col="col-12 col-md-4" />
        <TextField id="lab-value" label="Value" required inputMode="decimal" value={v.value} onChange={set('value')} error={errors.value} col="col-6 col-md-4" />
        <TextField id="lab-unit" label="Unit" required value={v.unit} onChange={set('unit')} error={errors.unit} col="col-6 col-md-4" />
        <TextField id="lab-low" label="Range low" inputMode="decimal" value={v.low} onChange={set('low')} error={errors.low} col="col-6 col-md-3" />
        <TextField id="lab-high" label="Range high" inputMode="decimal" value={v.high} onChange={set('high')} error={errors.high} col="col-6 col-md-3" />
        <TextField id="lab-date" label="Taken on" required type="date" max={today(zone)} value={v.date} onChange={set('date')} error={errors.date} col="col-6 col-md-3" />
        <TextField id="lab-time" label="Time" required type="time" value={v.time} onChange={set('time')} hint={`In ${zone}.`} col="col-6 col-md-3" />
        <div className="col-12 d-flex flex-wrap gap-2">
          <SubmitButton busy={action.busy}>Save result</SubmitButton>
          <button type="button" className="btn btn-outline-secondary" onClick={onCancel} disabled={action.busy}>
            Cancel
          </button>
        </div>
      </div>
    </form>
  );
}

function rangeText(range: { low: number | null; high: number | null } | null, unit: string): string {
  if (!range || (range.low === null && range.high === null)) return 'None given';
  if (range.low !== null && range.high !== null) return `${range.low}–${range.high} ${unit}`;
  return range.low !== null ? `at least ${range.low} ${unit}` : `at most ${range.high} ${unit}`;
}

export function LabResults({ patient, canAdd, zone }: { patient: PatientClinicalFragment; canAdd: boolean; zone: string }) {
  const results = [...patient.labResults].sort((a, b) => b.takenAt.localeCompare(a.takenAt));
  return (
    <RecordSection
      name="labs"
      title="Lab results"
      addLabel="Add lab result"
      added="Lab result added."
      canAdd={canAdd}
      form={(done) => <AddLabForm patientId={patient.id} zone={zone} {...done} />}
      emptyText="No lab results recorded."
      columns={['Test', 'Value', 'Reference range', 'Taken']}
      rows={results.map((r) => (
        <tr key={r.id}>
          <td data-label="Test" className="fw-semibold">
            {r.test}
          </td>
          <td data-label="Value">
            {r.value} {r.unit}
            {r.abnormal && <span className="badge text-bg-danger ms-2">Outside range</span>}
          </td>
          <td data-label="Reference range">{rangeText(r.referenceRange, r.unit)}</td>
          <td data-label="Taken">{dateTimeIn(r.takenAt, zone)}</td>
        </tr>
      ))}
    />
  );
}

const STATUS_NAME: Record<AppointmentStatus, string> = {
  SCHEDULED: 'Scheduled',
  COMPLETED: 'Completed',
  CANCELLED: 'Cancelled',
  NO_SHOW: 'No-show',
};

/** Visits in figures (only admins and the patient themselves may read it). */
export function VisitSummary({ patientId }: { patientId: string }) {
  const { data, loading, error } = useQuery(PatientVisitSummaryDocument, { variables: { id: patientId } });
  const s = data?.patient.visitSummary;
  return (
    <section className="mb-4" aria-labelledby="visits-heading">
      <h2 className="h5" id="visits-heading">
        Visit summary
      </h2>
      <ErrorAlert problem={error ? problemOf(error) : null} />
      {loading && !data && <Loading what="Loading the visit summary" />}
      {s && s.totalVisits === 0 && <Empty>No visits yet.</Empty>}
      {s && s.totalVisits > 0 && (
        <dl className="row g-2 mb-0" id="visit-summary">
          <Row label="Visits">
            {s.totalVisits}
            {s.byStatus.length > 0 && ` (${s.byStatus.map((b) => `${b.count} ${STATUS_NAME[b.status].toLowerCase()}`).join(', ')})`}
          </Row>
          <Row label="First visit">{s.firstVisit ? dateLabel(s.firstVisit) : '—'}</Row>
          <Row label="Last visit">{s.lastVisit ? dateLabel(s.lastVisit) : '—'}</Row>
          <Row label="Conditions seen">{s.conditions.length ? s.conditions.map((c) => `${c.condition} (${c.count})`).join(', ') : 'None recorded'}</Row>
        </dl>
      )}
    </section>
  );
}

/** The zone clinical times are shown in: the doctor's own, else the browser's (the clinic's). */
export function useClinicalZone(): string {
  return useUser().doctorZone ?? getClinicZone();
}
