import { useQuery, useSubscription } from '@apollo/client/react';
import { useEffect, useId, useMemo } from 'react';
import { Link, useSearchParams } from 'react-router';
import { problemOf } from '../../errors';
import { useUser } from '../../session';
import { addDays, dateLabel, getClinicZone, mondayOf, today } from '../../time';
import { MoreButton } from '../../ui/buttons';
import { Empty, ErrorAlert, Loading, PageHeader } from '../../ui/status';
import { AppointmentPanel } from './AppointmentPanel';
import { DoctorOptions, useDoctorChoices } from '../../ui/DoctorPicker';
import { ApptChangedDocument, ApptClinicCalendarDocument, ApptDoctorCalendarDocument, ApptOneDocument } from './operations';
import { mayBookAny, StatusBadge, timeRange, type Appt } from './shared';

type View = 'day' | 'week';

/** Hours a zone may be away from UTC: the range asked covers every zone's version of the days. */
const ZONE_MARGIN_MS = 14 * 3_600_000;

function rangeOf(days: string[]): { from: string; to: string } {
  const from = new Date(new Date(`${days[0]}T00:00:00Z`).getTime() - ZONE_MARGIN_MS).toISOString();
  const to = new Date(new Date(`${addDays(days[days.length - 1]!, 1)}T00:00:00Z`).getTime() + ZONE_MARGIN_MS).toISOString();
  return { from, to };
}

const byStart = (a: Appt, b: Appt) => a.start.localeCompare(b.start) || a.doctor.name.localeCompare(b.doctor.name);

/** The appointments of the days shown: one doctor's, or every doctor's (the clinic). */
function useCalendar(doctorId: string, days: string[]) {
  const { from, to } = rangeOf(days);
  const one = useQuery(ApptDoctorCalendarDocument, { variables: { doctorId, from, to }, skip: !doctorId });
  const clinic = useQuery(ApptClinicCalendarDocument, { variables: { from, to }, skip: !!doctorId });
  // Live: a booking, move, cancellation or completion of this doctor's appointments refreshes the view.
  useSubscription(ApptChangedDocument, {
    variables: { doctorId },
    skip: !doctorId,
    onData: () => void one.refetch(),
  });
  const shown = new Set(days);
  const all: Appt[] = doctorId
    ? (one.data?.doctor.appointments ?? [])
    : (clinic.data?.doctors.edges.flatMap((e) => e.node.appointments) ?? []);
  const list = all.filter((a) => shown.has(a.localDate)).sort(byStart);
  const active = doctorId ? one : clinic;
  return {
    list,
    loaded: Boolean(active.data),
    loading: active.loading,
    error: active.error,
    doctorName: one.data?.doctor.name,
    more: doctorId ? undefined : clinic.data?.doctors.pageInfo,
    fetchMore: (after: string) => void clinic.fetchMore({ variables: { after } }),
  };
}

function DayList({ list, clinic, onPick, date }: { list: Appt[]; clinic: boolean; onPick: (id: string) => void; date: string }) {
  if (list.length === 0) return <Empty>No appointments on {dateLabel(date)}.</Empty>;
  return (
    <table className="table table-cards align-middle" id="day-list">
      <caption className="visually-hidden">Appointments on {dateLabel(date)}</caption>
      <thead>
        <tr>
          <th scope="col">Time</th>
          {clinic && <th scope="col">Doctor</th>}
          <th scope="col">Patient</th>
          <th scope="col">Reason</th>
          <th scope="col">Status</th>
          <th scope="col">
            <span className="visually-hidden">Details</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {list.map((a) => (
          <tr key={a.id} data-appointment={a.id}>
            <td data-label="Time">
              {timeRange(a, a.timeZone)} <span className="text-muted small">{a.timeZone}</span>
            </td>
            {clinic && <td data-label="Doctor">{a.doctor.name}</td>}
            <td data-label="Patient">{a.patient.name}</td>
            <td data-label="Reason">{a.reason}</td>
            <td data-label="Status">
              <StatusBadge status={a.status} />
            </td>
            <td>
              <button type="button" className="btn btn-sm btn-outline-primary" onClick={() => onPick(a.id)} aria-label={`Details of ${timeRange(a, a.timeZone)} ${a.patient.name}`}>
                Details
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function WeekGrid({ days, list, clinic, onPick, todayDate }: { days: string[]; list: Appt[]; clinic: boolean; onPick: (id: string) => void; todayDate: string }) {
  return (
    <div className="week-grid" id="week-grid">
      {days.map((day) => {
        const items = list.filter((a) => a.localDate === day);
        return (
          <section key={day} className={`week-day border rounded p-2${day === todayDate ? ' week-today' : ''}`} aria-label={dateLabel(day)} data-day={day}>
            <h2 className="h6 mb-2">
              {dateLabel(day)}
              {day === todayDate && <span className="badge text-bg-info ms-1">Today</span>}
            </h2>
            {items.length === 0 ? (
              <p className="small text-muted mb-0">No appointments</p>
            ) : (
              <ul className="list-unstyled mb-0 d-grid gap-1">
                {items.map((a) => (
                  <li key={a.id}>
                    <button type="button" className={`btn btn-sm w-100 text-start week-item status-${a.status.toLowerCase()}`} onClick={() => onPick(a.id)} data-appointment={a.id}>
                      <span className="d-block fw-semibold">{timeRange(a, a.timeZone)}</span>
                      <span className="d-block">{a.patient.name}</span>
                      {clinic && <span className="d-block small">{a.doctor.name}</span>}
                      <StatusBadge status={a.status} />
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </section>
        );
      })}
    </div>
  );
}

function SelectedAppointment({ id, onClose }: { id: string; onClose: () => void }) {
  const { data, error } = useQuery(ApptOneDocument, { variables: { id } });
  useEffect(() => {
    document.getElementById('appointment-panel')?.scrollIntoView({ block: 'nearest' });
  }, [id, data]);
  if (error) return <ErrorAlert problem={problemOf(error)} onDismiss={onClose} />;
  if (!data) return <Loading what="Loading the appointment" />;
  return <AppointmentPanel a={data.appointment} onClose={onClose} />;
}

/**
 * Appointments as a day or a week calendar, for one doctor or the whole clinic. A doctor sees their
 * own (the graph shows a doctor no one else's); times are in each appointment's zone.
 */
export function CalendarView() {
  const user = useUser();
  const ids = useId();
  const [params, setParams] = useSearchParams();
  const isDoctor = user.role === 'DOCTOR';
  const { doctors: doctorList, error: doctorsError } = useDoctorChoices({ skip: isDoctor });
  const doctorId = isDoctor ? (user.doctorId ?? '') : (params.get('doctor') ?? '');
  const zone = isDoctor ? (user.doctorZone ?? getClinicZone()) : (doctorList.find((d) => d.id === doctorId)?.timeZone ?? getClinicZone());
  const todayDate = today(zone);
  const view: View = (params.get('view') as View | null) ?? (isDoctor || doctorId ? 'week' : 'day');
  const date = /^\d{4}-\d{2}-\d{2}$/.test(params.get('date') ?? '') ? params.get('date')! : todayDate;
  const days = useMemo(() => (view === 'day' ? [date] : Array.from({ length: 7 }, (_, i) => addDays(mondayOf(date), i))), [view, date]);
  const selected = params.get('appointment');
  const cal = useCalendar(doctorId, days);

  const set = (changes: Record<string, string | null>) => {
    // From the address as it is now (the hash router writes it at once), not as last rendered:
    // quick successive changes (a doctor, then Day, then a date) each keep the ones before, also
    // when the re-render after the previous one has not happened yet.
    const next = new URLSearchParams(window.location.hash.split('?')[1] ?? '');
    for (const [k, v] of Object.entries(changes)) {
      if (v === null || v === '') next.delete(k);
      else next.set(k, v);
    }
    setParams(next);
  };
  const step = view === 'day' ? 1 : 7;
  const unit = view === 'day' ? 'day' : 'week';
  const title = view === 'day' ? dateLabel(date) : `${dateLabel(days[0]!)} – ${dateLabel(days[6]!)}`;
  const who = isDoctor ? 'My appointments' : doctorId ? (cal.doctorName ?? 'Doctor') : 'Whole clinic';

  return (
    <section>
      <PageHeader title="Appointments">
        {mayBookAny(user.role) && (
          <Link className="btn btn-primary" to={`/appointments/book${doctorId ? `?doctor=${doctorId}` : ''}`}>
            Book appointment
          </Link>
        )}
      </PageHeader>
      <div className="d-flex flex-wrap align-items-end gap-2 mb-3 calendar-toolbar">
        <div className="btn-group" role="group" aria-label="Calendar view">
          <button type="button" className={`btn ${view === 'day' ? 'btn-primary' : 'btn-outline-primary'}`} aria-pressed={view === 'day'} onClick={() => set({ view: 'day' })}>
            Day
          </button>
          <button type="button" className={`btn ${view === 'week' ? 'btn-primary' : 'btn-outline-primary'}`} aria-pressed={view === 'week'} onClick={() => set({ view: 'week' })}>
            Week
          </button>
        </div>
        <div className="btn-group" role="group" aria-label={`Move by one ${unit}`}>
          <button type="button" className="btn btn-outline-secondary" aria-label={`Previous ${unit}`} onClick={() => set({ date: addDays(date, -step) })}>
            ‹ Previous
          </button>
          <button type="button" className="btn btn-outline-secondary" onClick={() => set({ date: null })}>
            Today
          </button>
          <button type="button" className="btn btn-outline-secondary" aria-label={`Next ${unit}`} onClick={() => set({ date: addDays(date, step) })}>
            Next ›
          </button>
        </div>
        <div>
          <label className="form-label small mb-0" htmlFor={`${ids}-date`}>
            Date
          </label>
          <input className="form-control" type="date" id={`${ids}-date`} value={date} onChange={(e) => e.target.value && set({ date: e.target.value })} />
        </div>
        {!isDoctor && (
          <div>
            <label className="form-label small mb-0" htmlFor={`${ids}-doctor`}>
              Doctor
            </label>
            <select className="form-select" id={`${ids}-doctor`} value={doctorId} onChange={(e) => set({ doctor: e.target.value, appointment: null })}>
              <option value="">All doctors (whole clinic)</option>
              <DoctorOptions doctors={doctorList} />
            </select>
          </div>
        )}
      </div>
      <p className="text-muted mb-2" id="calendar-title" aria-live="polite">
        <strong>{who}</strong> · {title}
        {doctorId && <span className="small"> · times in {zone}</span>}
      </p>
      {selected && <SelectedAppointment id={selected} onClose={() => set({ appointment: null })} />}
      <ErrorAlert problem={cal.error ? problemOf(cal.error, zone) : doctorsError ? problemOf(doctorsError) : null} />
      {cal.loading && !cal.loaded && <Loading what="Loading appointments" />}
      {cal.loaded &&
        (view === 'day' ? (
          <DayList list={cal.list} clinic={!doctorId} date={date} onPick={(id) => set({ appointment: id })} />
        ) : (
          <WeekGrid days={days} list={cal.list} clinic={!doctorId} todayDate={todayDate} onPick={(id) => set({ appointment: id })} />
        ))}
      {!doctorId && <MoreButton pageInfo={cal.more} loading={cal.loading} onMore={cal.fetchMore} />}
    </section>
  );
}
