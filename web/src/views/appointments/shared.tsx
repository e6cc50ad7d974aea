import { useQuery } from '@apollo/client/react';
import { useId } from 'react';
import type { AppointmentStatus, ApptFieldsFragment, Role } from '../../gql/graphql';
import { problemOf } from '../../errors';
import type { SessionUser } from '../../session';
import { addDays, dayIn, instantOf, timeIn } from '../../time';
import { ErrorAlert, Loading } from '../../ui/status';
import { ApptSlotsDocument } from './operations';
import './appointments.css';

export type Appt = ApptFieldsFragment;

/** Queries that show appointments or free slots: sent again after every change. */
export const REFRESH = ['ApptDoctorCalendar', 'ApptClinicCalendar', 'ApptMyVisits', 'ApptSlots', 'ApptOne'];

const STATUS: Record<AppointmentStatus, { label: string; badge: string }> = {
  SCHEDULED: { label: 'Scheduled', badge: 'text-bg-primary' },
  COMPLETED: { label: 'Completed', badge: 'text-bg-success' },
  CANCELLED: { label: 'Cancelled', badge: 'text-bg-secondary' },
  NO_SHOW: { label: 'No-show', badge: 'text-bg-warning' },
};

export function StatusBadge({ status }: { status: AppointmentStatus }) {
  const s = STATUS[status];
  return <span className={`badge ${s.badge} appt-status`}>{s.label}</span>;
}

/** "09:00–09:30" in the appointment's zone. */
export function timeRange(a: { start: string; end: string }, zone: string): string {
  return `${timeIn(a.start, zone)}–${timeIn(a.end, zone)}`;
}

/** "Thu 4 Dec 2026, 09:00–09:30 (Europe/Berlin)" */
export function whenText(a: { start: string; end: string }, zone: string): string {
  return `${dayIn(a.start, zone)}, ${timeRange(a, zone)} (${zone})`;
}

const ADMINS: readonly Role[] = ['SUPER_ADMIN', 'ADMIN'];

/** What the graph lets `user` do with `a` (subgraphs/appointments/access.ts). */
export function permissions(user: SessionUser, a: Appt): { move: boolean; close: boolean; followUp: boolean } {
  const admin = ADMINS.includes(user.role);
  const ownDoctor = user.role === 'DOCTOR' && user.doctorId === a.doctor.id;
  const ownPatient = user.role === 'PATIENT' && user.patientId === a.patient.id;
  const scheduled = a.status === 'SCHEDULED';
  return {
    move: scheduled && (admin || ownDoctor || ownPatient),
    close: scheduled && (admin || ownDoctor),
    followUp: ownDoctor && (a.status === 'COMPLETED' || (scheduled && new Date(a.start).getTime() <= Date.now())),
  };
}

/** Who may open the booking form for any patient (a doctor books follow-ups from a visit). */
export function mayBookAny(role: Role): boolean {
  return ADMINS.includes(role);
}

export interface SlotChoice {
  start: string;
  end: string;
}

/**
 * A day and one of the doctor's free slots on it, shown in the doctor's zone. `value` is the
 * chosen slot's start (ISO) or ''.
 */
export function SlotPicker({
  doctorId,
  zone,
  day,
  onDay,
  value,
  onPick,
  exclude,
}: {
  doctorId: string;
  zone: string;
  day: string;
  onDay: (day: string) => void;
  value: string;
  onPick: (slot: SlotChoice | null) => void;
  exclude?: string;
}) {
  const id = useId();
  const { data, loading, error } = useQuery(ApptSlotsDocument, {
    variables: { doctorId, from: instantOf(day, '00:00', zone), to: instantOf(addDays(day, 1), '00:00', zone) },
    skip: !doctorId || !day,
  });
  const slots = (data?.availableSlots ?? []).filter((s) => s.start !== exclude);
  return (
    <div className="row g-2">
      <div className="col-12 col-md-6">
        <label className="form-label" htmlFor={`${id}-day`}>
          Day
        </label>
        <input
          className="form-control"
          type="date"
          id={`${id}-day`}
          value={day}
          required
          onChange={(e) => {
            onDay(e.target.value);
            onPick(null);
          }}
        />
      </div>
      <div className="col-12 col-md-6">
        <label className="form-label" htmlFor={`${id}-slot`}>
          Free slot <span className="text-muted small">({zone})</span>
        </label>
        <select
          className="form-select"
          id={`${id}-slot`}
          value={value}
          required
          disabled={!data || slots.length === 0}
          onChange={(e) => onPick(slots.find((s) => s.start === e.target.value) ?? null)}
        >
          <option value="">{!data ? 'Loading free slots…' : slots.length === 0 ? 'No free slot on this day' : 'Choose a time'}</option>
          {slots.map((s) => (
            <option key={s.start} value={s.start}>
              {timeRange(s, zone)}
            </option>
          ))}
        </select>
      </div>
      {loading && !data && <Loading what="Looking for free slots" />}
      <ErrorAlert problem={error ? problemOf(error, zone) : null} />
    </div>
  );
}
