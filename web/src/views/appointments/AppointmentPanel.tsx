import { useMutation } from '@apollo/client/react';
import { useId, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useUser } from '../../session';
import { ConfirmButton, SubmitButton } from '../../ui/buttons';
import { ErrorAlert, Notice } from '../../ui/status';
import { useAction } from '../../ui/useAction';
import { ApptCancelDocument, ApptCompleteDocument, ApptNoShowDocument, ApptRescheduleDocument } from './operations';
import { permissions, REFRESH, SlotPicker, StatusBadge, whenText, type Appt, type SlotChoice } from './shared';

type Mode = 'none' | 'reschedule' | 'cancel' | 'complete';

/** Conditions typed as a comma- or line-separated list, without blanks or repeats. */
export function conditionsOf(text: string): string[] {
  return [...new Set(text.split(/[,\n]/).map((c) => c.trim()).filter((c) => c.length > 0))];
}

function RescheduleForm({ a, onDone, onClose }: { a: Appt; onDone: (text: string) => void; onClose: () => void }) {
  const zone = a.timeZone;
  const [day, setDay] = useState(a.localDate);
  const [slot, setSlot] = useState<SlotChoice | null>(null);
  const [move] = useMutation(ApptRescheduleDocument);
  const action = useAction(async (key: string, s: SlotChoice) => {
    await move({ variables: { id: a.id, start: s.start, end: s.end }, context: { idempotencyKey: key }, refetchQueries: REFRESH, awaitRefetchQueries: true });
  }, zone);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!slot) return;
    if (await action.run(slot)) onDone(`Moved to ${whenText(slot, zone)}.`);
  };
  return (
    <form className="border rounded p-2 mt-2 appt-form" onSubmit={(e) => void submit(e)} aria-label="Move the appointment">
      <p className="mb-2 fw-semibold">Move to another free slot</p>
      <SlotPicker doctorId={a.doctor.id} zone={zone} day={day} onDay={setDay} value={slot?.start ?? ''} onPick={setSlot} exclude={a.start} />
      <ErrorAlert problem={action.problem} />
      <div className="d-flex flex-wrap gap-2 mt-2">
        <SubmitButton busy={action.busy} disabled={!slot}>
          Move appointment
        </SubmitButton>
        <button type="button" className="btn btn-outline-secondary" onClick={onClose} disabled={action.busy}>
          Close
        </button>
      </div>
    </form>
  );
}

function CancelForm({ a, onDone, onClose }: { a: Appt; onDone: (text: string) => void; onClose: () => void }) {
  const id = useId();
  const [reason, setReason] = useState('');
  const [cancel] = useMutation(ApptCancelDocument);
  const action = useAction(async (key: string, why: string) => {
    await cancel({ variables: { id: a.id, reason: why }, context: { idempotencyKey: key }, refetchQueries: REFRESH, awaitRefetchQueries: true });
  }, a.timeZone);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const why = reason.trim();
    if (why && (await action.run(why))) onDone(`Cancelled the appointment of ${whenText(a, a.timeZone)}.`);
  };
  return (
    <form className="border rounded p-2 mt-2 appt-form" onSubmit={(e) => void submit(e)} aria-label="Cancel the appointment">
      <label className="form-label" htmlFor={`${id}-reason`}>
        Reason for cancelling
      </label>
      <textarea className="form-control" id={`${id}-reason`} rows={2} required value={reason} onChange={(e) => setReason(e.target.value)} autoFocus />
      <ErrorAlert problem={action.problem} />
      <div className="d-flex flex-wrap gap-2 mt-2">
        <SubmitButton className="btn btn-danger" busy={action.busy} disabled={reason.trim() === ''}>
          Confirm cancellation
        </SubmitButton>
        <button type="button" className="btn btn-outline-secondary" onClick={onClose} disabled={action.busy}>
          Keep appointment
        </button>
      </div>
    </form>
  );
}

function CompleteForm({ a, onDone, onClose }: { a: Appt; onDone: (text: string) => void; onClose: () => void }) {
  const id = useId();
  const [conditions, setConditions] = useState('');
  const [notes, setNotes] = useState('');
  const [complete] = useMutation(ApptCompleteDocument);
  const action = useAction(async (key: string, list: string[], text: string) => {
    await complete({ variables: { id: a.id, conditions: list, notes: text || null }, context: { idempotencyKey: key }, refetchQueries: REFRESH, awaitRefetchQueries: true });
  }, a.timeZone);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const list = conditionsOf(conditions);
    if (await action.run(list, notes.trim())) onDone(list.length > 0 ? `Visit completed with ${list.join(', ')}.` : 'Visit completed.');
  };
  return (
    <form className="border rounded p-2 mt-2 appt-form" onSubmit={(e) => void submit(e)} aria-label="Complete the visit">
      <label className="form-label" htmlFor={`${id}-conditions`}>
        Conditions and symptoms
      </label>
      <textarea className="form-control" id={`${id}-conditions`} rows={2} value={conditions} onChange={(e) => setConditions(e.target.value)} aria-describedby={`${id}-conditions-help`} autoFocus />
      <div className="form-text" id={`${id}-conditions-help`}>
        Separate them with commas or put one per line.
      </div>
      <label className="form-label mt-2" htmlFor={`${id}-notes`}>
        Notes (optional)
      </label>
      <textarea className="form-control" id={`${id}-notes`} rows={2} value={notes} onChange={(e) => setNotes(e.target.value)} />
      <ErrorAlert problem={action.problem} />
      <div className="d-flex flex-wrap gap-2 mt-2">
        <SubmitButton className="btn btn-success" busy={action.busy}>
          Complete visit
        </SubmitButton>
        <button type="button" className="btn btn-outline-secondary" onClick={onClose} disabled={action.busy}>
          Close
        </button>
      </div>
    </form>
  );
}

function NoShowButton({ a, onDone }: { a: Appt; onDone: (text: string) => void }) {
  const [noShow] = useMutation(ApptNoShowDocument);
  const action = useAction(async (key: string) => {
    await noShow({ variables: { id: a.id }, context: { idempotencyKey: key }, refetchQueries: REFRESH, awaitRefetchQueries: true });
  }, a.timeZone);
  return (
    <>
      <ConfirmButton
        label="No-show"
        question="The patient did not come?"
        confirmLabel="Yes, mark no-show"
        className="btn btn-outline-warning text-dark"
        busy={action.busy}
        onConfirm={() => void action.run().then((ok) => ok && onDone('Marked as no-show.'))}
      />
      <ErrorAlert problem={action.problem} />
    </>
  );
}

/** The actions the signed-in user may take on one appointment (each form opens on its button). */
export function AppointmentActions({ a, showFollowUp = true }: { a: Appt; showFollowUp?: boolean }) {
  const user = useUser();
  const may = permissions(user, a);
  const [mode, setMode] = useState<Mode>('none');
  const [notice, setNotice] = useState<string | null>(null);
  const started = new Date(a.start).getTime() <= Date.now();
  const done = (text: string) => {
    setMode('none');
    setNotice(text);
  };
  const close = () => setMode('none');
  const open = (m: Mode) => {
    setNotice(null);
    setMode(m);
  };
  if (!may.move && !may.close && !(showFollowUp && may.followUp)) return <Notice text={notice} onDismiss={() => setNotice(null)} />;
  return (
    <div className="appt-actions">
      <Notice text={notice} onDismiss={() => setNotice(null)} />
      {mode === 'none' && (
        <div className="d-flex flex-wrap gap-2">
          {may.move && (
            <button type="button" className="btn btn-sm btn-outline-primary" onClick={() => open('reschedule')}>
              Reschedule
            </button>
          )}
          {may.move && (
            <button type="button" className="btn btn-sm btn-outline-danger" onClick={() => open('cancel')}>
              Cancel
            </button>
          )}
          {may.close && started && (
            <button type="button" className="btn btn-sm btn-outline-success" onClick={() => open('complete')}>
              Complete
            </button>
          )}
          {may.close && started && <NoShowButton a={a} onDone={done} />}
          {showFollowUp && may.followUp && (
            <Link className="btn btn-sm btn-outline-primary" to={`/appointments/book?patient=${encodeURIComponent(a.patient.id)}&from=${encodeURIComponent(a.id)}`}>
              Book follow-up
            </Link>
          )}
        </div>
      )}
      {may.close && !started && mode === 'none' && <p className="small text-muted mb-0 mt-1">Complete and no-show become possible once the visit has started.</p>}
      {mode === 'reschedule' && <RescheduleForm a={a} onDone={done} onClose={close} />}
      {mode === 'cancel' && <CancelForm a={a} onDone={done} onClose={close} />}
      {mode === 'complete' && <CompleteForm a={a} onDone={done} onClose={close} />}
    </div>
  );
}

/** Everything about one appointment, with its actions. */
export function AppointmentPanel({ a, onClose, headingLevel = 2 }: { a: Appt; onClose?: () => void; headingLevel?: 2 | 3 }) {
  const Heading = headingLevel === 2 ? 'h2' : 'h3';
  const zone = a.timeZone;
  return (
    <section className="card mb-3 appt-panel" aria-label="Selected appointment" id="appointment-panel">
      <div className="card-body">
        <div className="d-flex align-items-start gap-2">
          <Heading className="h5 flex-grow-1 mb-1">
            {a.patient.name} with {a.doctor.name}
          </Heading>
          {onClose && (
            <button type="button" className="btn-close" aria-label="Close the details" onClick={onClose} />
          )}
        </div>
        <dl className="row mb-2 small">
          <dt className="col-4 col-md-2">When</dt>
          <dd className="col-8 col-md-10">
            {whenText(a, zone)} <StatusBadge status={a.status} />
          </dd>
          <dt className="col-4 col-md-2">Reason</dt>
          <dd className="col-8 col-md-10">{a.reason}</dd>
          <dt className="col-4 col-md-2">Specialty</dt>
          <dd className="col-8 col-md-10">{a.specialty}</dd>
          {a.cancellationReason && (
            <>
              <dt className="col-4 col-md-2">Cancelled because</dt>
              <dd className="col-8 col-md-10">{a.cancellationReason}</dd>
            </>
          )}
          {a.conditions.length > 0 && (
            <>
              <dt className="col-4 col-md-2">Conditions</dt>
              <dd className="col-8 col-md-10">{a.conditions.join(', ')}</dd>
            </>
          )}
          {a.notes && (
            <>
              <dt className="col-4 col-md-2">Notes</dt>
              <dd className="col-8 col-md-10">{a.notes}</dd>
            </>
          )}
        </dl>
        <AppointmentActions key={a.id} a={a} />
      </div>
    </section>
  );
}
