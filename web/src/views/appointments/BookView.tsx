import { useApolloClient, useMutation, useQuery } from '@apollo/client/react';
import { useEffect, useId, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { problemOf } from '../../errors';
import { useUser } from '../../session';
import { getClinicZone, today } from '../../time';
import { SubmitButton } from '../../ui/buttons';
import { Empty, ErrorAlert, Loading, Notice, PageHeader } from '../../ui/status';
import { useAction } from '../../ui/useAction';
import { PatientPicker } from '../../ui/PatientPicker';
import { DoctorPicker, type DoctorChoice } from '../../ui/DoctorPicker';
import { ApptOneDocument, ApptSpecialtiesDocument, BookAppointmentDocument } from './operations';
import { REFRESH, SlotPicker, whenText, type SlotChoice } from './shared';

interface Person {
  id: string;
  name: string;
}

interface Booked {
  text: string;
  doctorId: string;
  localDate: string;
}

/** Doctor picker, optionally narrowed to one specialty. */
function SpecialtyAndDoctor({ value, onPick }: { value: Person | null; onPick: (d: DoctorChoice | null) => void }) {
  const id = useId();
  const [specialty, setSpecialty] = useState('');
  const specialties = useQuery(ApptSpecialtiesDocument);
  return (
    <div className="row g-2 mb-3">
      <div className="col-12 col-md-6">
        <label className="form-label" htmlFor={`${id}-specialty`}>
          Specialty (optional)
        </label>
        <select
          className="form-select"
          id={`${id}-specialty`}
          value={specialty}
          onChange={(e) => {
            setSpecialty(e.target.value);
            onPick(null);
          }}
        >
          <option value="">Any specialty</option>
          {(specialties.data?.specialties ?? []).map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </div>
      <DoctorPicker look="select" specialty={specialty || null} value={value} onChange={onPick} />
    </div>
  );
}

/**
 * Booking: who (staff find the patient; a patient books for themselves; a doctor books a follow-up
 * for the patient of one of their visits, with themselves), with whom, which free slot (in the
 * doctor's zone), why. Sent with one Idempotency-Key per press (useAction).
 */
export function BookView() {
  const user = useUser();
  const ids = useId();
  const client = useApolloClient();
  const [params] = useSearchParams();
  const fromVisit = params.get('from');
  const source = useQuery(ApptOneDocument, { variables: { id: fromVisit ?? '' }, skip: !fromVisit });
  const isPatient = user.role === 'PATIENT';
  const isDoctor = user.role === 'DOCTOR';

  const [picked, setPicked] = useState<Person | null>(null);
  const [doctor, setDoctor] = useState<{ id: string; name: string; timeZone: string } | null>(null);
  const [day, setDay] = useState('');
  const [slot, setSlot] = useState<SlotChoice | null>(null);
  const [reason, setReason] = useState(fromVisit ? 'Follow-up' : '');
  const [booked, setBooked] = useState<Booked | null>(null);
  /** The slot of the last attempt (named in a CONFLICT message). */
  const [tried, setTried] = useState<SlotChoice | null>(null);
  const [book] = useMutation(BookAppointmentDocument);

  const visit = source.data?.appointment;
  const patient: Person | null = isPatient ? (user.patientId ? { id: user.patientId, name: 'You' } : null) : visit ? visit.patient : picked;
  const theDoctor = isDoctor ? (visit ? { id: visit.doctor.id, name: visit.doctor.name, timeZone: visit.doctor.timeZone } : null) : doctor;
  const zone = theDoctor?.timeZone ?? getClinicZone();
  const shownDay = day || today(zone);

  const action = useAction(async (key: string, input: { patientId: string; doctorId: string; start: string; end: string; reason: string }) => {
    const result = await book({ variables: { input }, context: { idempotencyKey: key }, refetchQueries: REFRESH });
    const a = result.data?.bookAppointment;
    if (a) {
      const who = isPatient ? 'You are' : `${a.patient.name} is`;
      setBooked({ text: `${who} booked with ${a.doctor.name} on ${whenText(a, a.timeZone)}.`, doctorId: a.doctor.id, localDate: a.localDate });
    }
  }, zone);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!patient || !theDoctor || !slot || !reason.trim()) return;
    setBooked(null);
    setTried(slot);
    const ok = await action.run({ patientId: patient.id, doctorId: theDoctor.id, start: slot.start, end: slot.end, reason: reason.trim() });
    if (ok) {
      setSlot(null);
      if (!fromVisit) setReason('');
    } else {
      // The slot may have gone meanwhile: show what is free now.
      void client.refetchQueries({ include: ['ApptSlots'] });
    }
  };

  const conflict = action.problem?.code === 'CONFLICT' && tried ? ` You picked ${whenText(tried, zone)}; please choose another free slot.` : '';
  // A refused slot is not offered again: the list of free slots is asked anew.
  const refused = action.problem?.code === 'CONFLICT';
  useEffect(() => {
    if (refused) setSlot(null);
  }, [refused]);
  const back = isPatient ? '/visits' : '/appointments';

  if (isDoctor && !fromVisit) {
    return (
      <section>
        <PageHeader title="Book a follow-up" />
        <Empty>Open one of your visits in the calendar and press “Book follow-up”.</Empty>
      </section>
    );
  }
  if (isPatient && !user.patientId) {
    return (
      <section>
        <PageHeader title="Book a visit" />
        <Empty>Your account is not linked to a patient record yet; please ask the clinic.</Empty>
      </section>
    );
  }

  return (
    <section>
      <PageHeader title={fromVisit ? 'Book a follow-up' : isPatient ? 'Book a visit' : 'Book an appointment'}>
        <Link className="btn btn-outline-secondary" to={back}>
          Back
        </Link>
      </PageHeader>
      {booked && (
        <div id="booking-done">
          <Notice text={booked.text} onDismiss={() => setBooked(null)} />
          <p>
            <Link to={isPatient ? '/visits' : `/appointments?view=day&date=${booked.localDate}&doctor=${booked.doctorId}`}>{isPatient ? 'See my visits' : 'Show it in the calendar'}</Link>
          </p>
        </div>
      )}
      {source.error && <ErrorAlert problem={problemOf(source.error)} />}
      {fromVisit && !visit && !source.error && <Loading what="Loading the visit" />}
      <form id="book-form" onSubmit={(e) => void submit(e)} aria-label="Booking" className="appt-form">
        <h2 className="h5">Patient</h2>
        {patient ? (
          <p className="d-flex flex-wrap align-items-center gap-2" id="booking-patient">
            <span className="fw-semibold">{isPatient ? 'You' : patient.name}</span>
            {!isPatient && !fromVisit && (
              <button type="button" className="btn btn-sm btn-outline-secondary" onClick={() => setPicked(null)}>
                Change patient
              </button>
            )}
          </p>
        ) : (
          !fromVisit && <PatientPicker look="list" value={picked} onChange={setPicked} />
        )}
        <h2 className="h5">Doctor and time</h2>
        {isDoctor ? (
          <p className="fw-semibold">{theDoctor?.name}</p>
        ) : (
          <SpecialtyAndDoctor
            value={doctor}
            onPick={(d) => {
              setDoctor(d);
              setSlot(null);
            }}
          />
        )}
        {theDoctor ? (
          <SlotPicker doctorId={theDoctor.id} zone={zone} day={shownDay} onDay={setDay} value={slot?.start ?? ''} onPick={setSlot} />
        ) : (
          <p className="text-muted">Choose a doctor to see their free slots.</p>
        )}
        <div className="mt-3">
          <label className="form-label" htmlFor={`${ids}-reason`}>
            Reason for the visit
          </label>
          <input className="form-control" id={`${ids}-reason`} value={reason} required onChange={(e) => setReason(e.target.value)} />
        </div>
        <div className="mt-3">
          <ErrorAlert problem={action.problem ? { ...action.problem, message: action.problem.message + conflict } : null} onDismiss={action.clear} />
          <SubmitButton busy={action.busy} disabled={!patient || !theDoctor || !slot || !reason.trim()}>
            Book appointment
          </SubmitButton>
        </div>
      </form>
    </section>
  );
}
