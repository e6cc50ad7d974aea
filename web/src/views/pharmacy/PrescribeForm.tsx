import { useMutation, useQuery } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { UserMessage } from '../../errors';
import type { PharmacyPrescriptionFieldsFragment } from '../../gql/graphql';
import { useUser } from '../../session';
import { getClinicZone, today } from '../../time';
import { SubmitButton } from '../../ui/buttons';
import { ErrorAlert, Loading } from '../../ui/status';
import { SearchField } from '../../ui/pickers';
import { useAction } from '../../ui/useAction';
import { useSettled } from '../../ui/useSettled';
import { amount, localDate, medicationLabel } from './format';
import { count } from './MedicationEditor';
import { PharmacyMedicationChoicesDocument, PharmacyPatientChoicesDocument, PharmacyPrescribeDocument } from './operations';

interface PatientChoice {
  id: string;
  name: string;
  dateOfBirth: string;
  allergies: string[];
}

/** The patients the signed-in doctor treats (the graph lists only those), found by name. */
function PatientPicker({ value, onChange }: { value: PatientChoice | null; onChange: (p: PatientChoice | null) => void }) {
  const [search, setSearch] = useState('');
  const query = useSettled(search.trim(), 300);
  const { data, loading, error } = useQuery(PharmacyPatientChoicesDocument, { variables: { search: query || null } });
  const found = data?.patients.edges.map((e) => e.node) ?? [];
  const options = value && !found.some((p) => p.id === value.id) ? [value, ...found] : found;
  return (
    <>
      <div className="col-12 col-md-6">
        <SearchField
          id="prescribe-patient-search"
          label="Find a patient"
          hint="Name or email; only patients you treat (with an appointment with you) are listed."
          hintId="prescribe-patient-hint"
          value={search}
          onChange={setSearch}
        />
      </div>
      <div className="col-12 col-md-6">
        <label className="form-label" htmlFor="prescribe-patient">
          Patient
        </label>
        <select
          id="prescribe-patient"
          className="form-select"
          required
          value={value?.id ?? ''}
          onChange={(e) => onChange(options.find((p) => p.id === e.target.value) ?? null)}
        >
          <option value="">{loading && !data ? 'Loading your patients…' : found.length === 0 ? 'No patient found' : 'Choose a patient'}</option>
          {options.map((p) => (
            <option key={p.id} value={p.id}>
              {`${p.name} (born ${localDate(p.dateOfBirth)})`}
            </option>
          ))}
        </select>
        {error && <div className="form-text text-danger">Your patients could not be loaded. Please try again.</div>}
        {value && (
          <div className="form-text" id="prescribe-allergies">
            {value.allergies.length ? `Allergies: ${value.allergies.join(', ')}` : 'No known allergies recorded.'}
          </div>
        )}
      </div>
    </>
  );
}

interface MedicationChoice {
  id: string;
  name: string;
  form: PharmacyPrescriptionFieldsFragment['medication']['form'];
  strength: string;
  unit: string;
  stockOnHand: number;
  lowStock: boolean;
}

/** A medication of the catalogue, with its stock. */
function MedicationPicker({ value, onChange }: { value: MedicationChoice | null; onChange: (m: MedicationChoice | null) => void }) {
  const [search, setSearch] = useState('');
  const query = useSettled(search.trim(), 300);
  const { data, loading, error } = useQuery(PharmacyMedicationChoicesDocument, { variables: { search: query || null } });
  const found = data?.medications.edges.map((e) => e.node) ?? [];
  const options = value && !found.some((m) => m.id === value.id) ? [value, ...found] : found;
  return (
    <>
      <div className="col-12 col-md-6">
        <SearchField id="prescribe-medication-search" label="Find a medication" value={search} onChange={setSearch} />
      </div>
      <div className="col-12 col-md-6">
        <label className="form-label" htmlFor="prescribe-medication">
          Medication
        </label>
        <select
          id="prescribe-medication"
          className="form-select"
          required
          value={value?.id ?? ''}
          onChange={(e) => onChange(options.find((m) => m.id === e.target.value) ?? null)}
        >
          <option value="">{loading && !data ? 'Loading the catalogue…' : found.length === 0 ? 'No medication found' : 'Choose a medication'}</option>
          {options.map((m) => (
            <option key={m.id} value={m.id}>
              {`${medicationLabel(m)} (${amount(m.stockOnHand, m.unit)} in stock${m.lowStock ? ', low' : ''})`}
            </option>
          ))}
        </select>
        {error && <div className="form-text text-danger">The catalogue could not be loaded. Please try again.</div>}
      </div>
    </>
  );
}

interface Draft {
  dosage: string;
  frequency: string;
  startDate: string;
  endDate: string;
  refills: string;
}

/** A doctor's new prescription for a patient they treat (the graph prescribes as the doctor). */
export function PrescribeForm({ onDone }: { onDone: (text: string) => void }) {
  const user = useUser();
  const zone = user.doctorZone ?? getClinicZone();
  const [patient, setPatient] = useState<PatientChoice | null>(null);
  const [medication, setMedication] = useState<MedicationChoice | null>(null);
  const blank = (): Draft => ({ dosage: '', frequency: '', startDate: today(zone), endDate: '', refills: '0' });
  const [d, setD] = useState<Draft>(blank);
  const [prescribe] = useMutation(PharmacyPrescribeDocument, { refetchQueries: ['PharmacyPrescriptions'] });
  const action = useAction(async (key: string, patientId: string, medicationId: string, draft: Draft) => {
    if (!patientId) throw new UserMessage('Choose the patient.');
    if (!medicationId) throw new UserMessage('Choose the medication.');
    if (!draft.dosage.trim()) throw new UserMessage('Dose is required, e.g. 1 tablet.');
    if (!draft.frequency.trim()) throw new UserMessage('How often is required, e.g. twice daily.');
    if (!draft.startDate) throw new UserMessage('Start date is required.');
    if (draft.endDate && draft.endDate < draft.startDate) throw new UserMessage('The end date cannot be before the start date.');
    const refills = count(draft.refills, 'Refills', 0);
    if (refills > 12) throw new UserMessage('Refills can be at most 12.');
    const { data } = await prescribe({
      variables: {
        input: {
          patientId,
          medicationId,
          dosage: draft.dosage.trim(),
          frequency: draft.frequency.trim(),
          startDate: draft.startDate,
          endDate: draft.endDate || null,
          refillsAllowed: refills,
        },
      },
      context: { idempotencyKey: key },
    });
    if (data) {
      const p = data.prescribe;
      onDone(`Prescribed ${p.medication.name} ${p.medication.strength} for ${p.patient.name}.`);
      setD(blank());
      setMedication(null);
    }
  }, zone);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(patient?.id ?? '', medication?.id ?? '', d);
  };
  const field = (name: keyof Draft, label: string, hint: string) => (
    <div className="col-12 col-md-6">
      <label className="form-label" htmlFor={`prescribe-${name}`}>
        {label}
      </label>
      <input
        id={`prescribe-${name}`}
        className="form-control"
        required
        value={d[name]}
        aria-describedby={`prescribe-${name}-hint`}
        onChange={(e) => setD({ ...d, [name]: e.target.value })}
      />
      <div className="form-text" id={`prescribe-${name}-hint`}>
        {hint}
      </div>
    </div>
  );
  if (!user.doctorId) return <Loading what="Loading your doctor profile" />;
  return (
    <form onSubmit={submit} id="prescribe-form" noValidate>
      <div className="row g-3">
        <PatientPicker value={patient} onChange={setPatient} />
        <MedicationPicker value={medication} onChange={setMedication} />
        {field('dosage', 'Dose', 'How much per dose, e.g. 1 tablet.')}
        {field('frequency', 'How often', 'e.g. twice daily, with food.')}
        <div className="col-12 col-md-4">
          <label className="form-label" htmlFor="prescribe-start">
            Start date
          </label>
          <input id="prescribe-start" className="form-control" type="date" required value={d.startDate} onChange={(e) => setD({ ...d, startDate: e.target.value })} />
        </div>
        <div className="col-12 col-md-4">
          <label className="form-label" htmlFor="prescribe-end">
            End date (optional)
          </label>
          <input id="prescribe-end" className="form-control" type="date" value={d.endDate} min={d.startDate} onChange={(e) => setD({ ...d, endDate: e.target.value })} />
        </div>
        <div className="col-12 col-md-4">
          <label className="form-label" htmlFor="prescribe-refills">
            Refills after the first fill
          </label>
          <input
            id="prescribe-refills"
            className="form-control"
            type="number"
            min={0}
            max={12}
            step={1}
            inputMode="numeric"
            value={d.refills}
            aria-describedby="prescribe-refills-hint"
            onChange={(e) => setD({ ...d, refills: e.target.value })}
          />
          <div className="form-text" id="prescribe-refills-hint">
            0 to 12. The pharmacy dispenses the first fill plus this many.
          </div>
        </div>
      </div>
      <ErrorAlert problem={action.problem} onDismiss={action.clear} />
      <div className="mt-3">
        <SubmitButton busy={action.busy}>Prescribe</SubmitButton>
      </div>
    </form>
  );
}
