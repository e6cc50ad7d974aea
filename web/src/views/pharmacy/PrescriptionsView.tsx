import { useMutation, useQuery } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { problemOf } from '../../errors';
import type { PharmacyPrescriptionFieldsFragment, PrescriptionStatus, Role } from '../../gql/graphql';
import { useUser } from '../../session';
import { BusyButton, MoreButton, SubmitButton } from '../../ui/buttons';
import { Empty, ErrorAlert, Loading, Notice, PageHeader } from '../../ui/status';
import { useAction } from '../../ui/useAction';
import { amount, localDate, LowStockBadge, medicationLabel, StatusBadge } from './format';
import { count } from './MedicationEditor';
import { PharmacyCancelPrescriptionDocument, PharmacyDispenseDocument, PharmacyPrescriptionsDocument } from './operations';
import { PrescribeForm } from './PrescribeForm';
import { canCancel, canDispense } from './roles';

type Rx = PharmacyPrescriptionFieldsFragment;
type Filter = PrescriptionStatus | 'ALL';

const FILTERS: Record<Filter, string> = {
  ACTIVE: 'Active (fills left)',
  COMPLETED: 'Completed',
  CANCELLED: 'Cancelled',
  ALL: 'All',
};

const fills = (n: number) => `${n} ${n === 1 ? 'fill' : 'fills'}`;

/** One fill handed out: the quantity comes off the stock, one fill is used. */
function Dispense({ rx, onDone }: { rx: Rx; onDone: (text: string) => void }) {
  const [quantity, setQuantity] = useState('');
  const [dispense] = useMutation(PharmacyDispenseDocument);
  // One Idempotency-Key per press: a retry after a lost answer is answered with the first outcome.
  const action = useAction(async (key: string, q: string) => {
    const n = count(q, 'Quantity', 1);
    const { data } = await dispense({ variables: { prescriptionId: rx.id, quantity: n }, context: { idempotencyKey: key } });
    setQuantity('');
    if (data) {
      const left = data.dispense.prescription.fillsRemaining;
      onDone(
        `Dispensed ${amount(n, rx.medication.unit)} of ${rx.medication.name} ${rx.medication.strength} for ${rx.patient.name}. ${left ? `${fills(left)} left` : 'That was the last fill'}; ${amount(data.dispense.medication.stockOnHand, rx.medication.unit)} in stock.`,
      );
    }
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(quantity);
  };
  const id = `dispense-${rx.id}`;
  return (
    <form onSubmit={submit} className="dispense-form" noValidate aria-label={`Dispense ${rx.medication.name} for ${rx.patient.name}`}>
      <div className="d-flex flex-wrap align-items-end gap-2">
        <div>
          <label className="form-label small mb-1" htmlFor={id}>
            Quantity ({rx.medication.unit})
          </label>
          <input id={id} className="form-control form-control-sm dispense-quantity" type="number" min={1} step={1} inputMode="numeric" required value={quantity} onChange={(e) => setQuantity(e.target.value)} />
        </div>
        <SubmitButton className="btn btn-sm btn-primary" busy={action.busy}>
          Dispense
        </SubmitButton>
      </div>
      <div className="mt-2">
        <ErrorAlert problem={action.problem} onDismiss={action.clear} />
      </div>
    </form>
  );
}

/** Cancelling an active prescription, with an optional reason, asked twice. */
function Cancel({ rx, onDone }: { rx: Rx; onDone: (text: string) => void }) {
  const [asking, setAsking] = useState(false);
  const [reason, setReason] = useState('');
  const [cancel] = useMutation(PharmacyCancelPrescriptionDocument);
  const action = useAction(async (key: string, why: string) => {
    await cancel({ variables: { id: rx.id, reason: why.trim() || null }, context: { idempotencyKey: key } });
    setAsking(false);
    onDone(`Cancelled the prescription of ${rx.medication.name} ${rx.medication.strength} for ${rx.patient.name}.`);
  });
  if (!asking) {
    return (
      <button type="button" className="btn btn-sm btn-outline-danger" onClick={() => setAsking(true)}>
        Cancel prescription
      </button>
    );
  }
  const id = `cancel-reason-${rx.id}`;
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void action.run(reason);
      }}
      aria-label={`Cancel the prescription of ${rx.medication.name} for ${rx.patient.name}`}
    >
      <label className="form-label small mb-1" htmlFor={id}>
        Reason (optional)
      </label>
      <input id={id} className="form-control form-control-sm mb-2" value={reason} onChange={(e) => setReason(e.target.value)} />
      <div className="d-flex flex-wrap gap-2">
        <SubmitButton className="btn btn-sm btn-danger" busy={action.busy}>
          Yes, cancel it
        </SubmitButton>
        <BusyButton className="btn btn-sm btn-outline-secondary" disabled={action.busy} onClick={() => setAsking(false)}>
          Keep it
        </BusyButton>
      </div>
      <div className="mt-2">
        <ErrorAlert problem={action.problem} onDismiss={action.clear} />
      </div>
    </form>
  );
}

interface Shown {
  patient: boolean;
  prescriber: boolean;
  stock: boolean;
}

function PrescriptionRow({ rx, role, doctorId, shown, onDone }: { rx: Rx; role: Role; doctorId: string | null; shown: Shown; onDone: (text: string) => void }) {
  const active = rx.status === 'ACTIVE';
  const dispense = active && canDispense(role);
  const cancel = active && canCancel(role, rx.prescriber.id, doctorId);
  const total = rx.refillsAllowed + 1;
  return (
    <tr className="prescription-row" data-id={rx.id}>
      {shown.patient && (
        <td data-label="Patient" className="rx-patient">
          {rx.patient.name}
        </td>
      )}
      <td data-label="Medication" className="rx-medication">
        <strong>{medicationLabel(rx.medication)}</strong>
        <div>
          {rx.dosage}, {rx.frequency}
        </div>
        <div className="small text-muted">{rx.endDate ? `${localDate(rx.startDate)} to ${localDate(rx.endDate)}` : `From ${localDate(rx.startDate)}`}</div>
      </td>
      <td data-label="Fills" className="rx-fills">
        <div className="rx-fills-left">{active ? `${fills(rx.fillsRemaining)} left` : 'No fills left'}</div>
        <div className="small text-muted">{`${rx.fillsDispensed} of ${total} dispensed`}</div>
      </td>
      {shown.stock && (
        <td data-label="In stock" className="rx-stock">
          <span className="me-1 rx-stock-amount">{amount(rx.medication.stockOnHand, rx.medication.unit)}</span>{' '}
          <LowStockBadge low={rx.medication.lowStock} />
        </td>
      )}
      <td data-label="Status">
        <StatusBadge status={rx.status} />
        {rx.status === 'CANCELLED' && rx.cancelReason && <div className="small">{rx.cancelReason}</div>}
      </td>
      {shown.prescriber && <td data-label="Prescribed by">{rx.prescriber.name}</td>}
      {(dispense || cancel) && (
        <td data-label="Actions">
          <div className="d-flex flex-column gap-2">
            {dispense && <Dispense rx={rx} onDone={onDone} />}
            {cancel && <Cancel rx={rx} onDone={onDone} />}
          </div>
        </td>
      )}
      {!(dispense || cancel) && <td className="d-none d-md-table-cell" />}
    </tr>
  );
}

function title(role: Role): { heading: string; intro: string; list: string } {
  switch (role) {
    case 'PHARMACIST':
      return { heading: 'Prescriptions', intro: 'The queue: active prescriptions with fills left. Dispense a fill; its quantity comes off the stock.', list: 'Queue' };
    case 'DOCTOR':
      return { heading: 'Prescriptions', intro: 'Prescribe for the patients you treat, and follow or cancel what you prescribed.', list: 'Your prescriptions' };
    case 'PATIENT':
      return { heading: 'My prescriptions', intro: 'What your doctors prescribed for you, and how many fills are left.', list: 'Prescriptions' };
    default:
      return { heading: 'Prescriptions', intro: 'Every prescription of the clinic.', list: 'Prescriptions' };
  }
}

/** The prescriptions view, per role: the pharmacist's queue, a doctor's prescribing, a patient's own. */
export function PrescriptionsView() {
  const user = useUser();
  const role = user.role;
  const dispenser = canDispense(role);
  const [filter, setFilter] = useState<Filter>(dispenser ? 'ACTIVE' : 'ALL');
  const [notice, setNotice] = useState<string | null>(null);
  const [prescribing, setPrescribing] = useState(false);
  const doctorId = role === 'DOCTOR' ? user.doctorId : null;
  const { data, loading, error, fetchMore } = useQuery(PharmacyPrescriptionsDocument, {
    variables: { status: filter === 'ALL' ? null : filter, doctorId },
    skip: role === 'DOCTOR' && !doctorId,
  });
  // A prescription completed or cancelled here leaves a filtered list at once.
  const list = (data?.prescriptions.edges.map((e) => e.node) ?? []).filter((rx) => filter === 'ALL' || rx.status === filter);
  const shown: Shown = { patient: role !== 'PATIENT', prescriber: role !== 'DOCTOR', stock: role !== 'PATIENT' };
  const text = title(role);
  const done = (t: string) => setNotice(t);
  return (
    <section>
      <PageHeader title={text.heading}>
        {role === 'DOCTOR' && (
          <button type="button" className="btn btn-primary" aria-expanded={prescribing} aria-controls="new-prescription" onClick={() => setPrescribing(!prescribing)}>
            {prescribing ? 'Close the form' : 'New prescription'}
          </button>
        )}
      </PageHeader>
      <p className="text-muted">{text.intro}</p>
      <Notice text={notice} onDismiss={() => setNotice(null)} />
      {role === 'DOCTOR' && prescribing && (
        <section className="card mb-4" id="new-prescription" aria-labelledby="new-prescription-heading">
          <div className="card-body">
            <h2 className="h5 card-title" id="new-prescription-heading">
              New prescription
            </h2>
            <PrescribeForm
              onDone={(t) => {
                setNotice(t);
                setPrescribing(false);
              }}
            />
          </div>
        </section>
      )}
      <section aria-labelledby="prescription-list-heading">
        <div className="d-flex flex-wrap align-items-end gap-2 mb-2">
          <h2 className="h5 me-auto mb-0" id="prescription-list-heading">
            {text.list}
          </h2>
          <div>
            <label className="form-label small mb-1" htmlFor="prescription-filter">
              Show
            </label>
            <select id="prescription-filter" className="form-select form-select-sm" value={filter} onChange={(e) => setFilter(e.target.value as Filter)}>
              {(Object.keys(FILTERS) as Filter[]).map((f) => (
                <option key={f} value={f}>
                  {FILTERS[f]}
                </option>
              ))}
            </select>
          </div>
        </div>
        <ErrorAlert problem={error ? problemOf(error) : null} />
        {loading && !data && <Loading what="Loading prescriptions" />}
        {data && list.length === 0 && (
          <Empty>
            {filter === 'ACTIVE' && dispenser
              ? 'The queue is empty: no active prescription has fills left.'
              : filter === 'ALL'
                ? 'No prescriptions yet.'
                : `No ${FILTERS[filter].toLowerCase()} prescriptions.`}
          </Empty>
        )}
        {list.length > 0 && (
          <table className="table table-cards align-middle rx-table" id="prescription-list">
            <thead>
              <tr>
                {shown.patient && <th scope="col">Patient</th>}
                <th scope="col">Medication and dose</th>
                <th scope="col">Fills</th>
                {shown.stock && <th scope="col">In stock</th>}
                <th scope="col">Status</th>
                {shown.prescriber && <th scope="col">Prescribed by</th>}
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((rx) => (
                <PrescriptionRow key={rx.id} rx={rx} role={role} doctorId={user.doctorId} shown={shown} onDone={done} />
              ))}
            </tbody>
          </table>
        )}
        <MoreButton pageInfo={data?.prescriptions.pageInfo} loading={loading} onMore={(after) => void fetchMore({ variables: { after } })} />
      </section>
    </section>
  );
}
