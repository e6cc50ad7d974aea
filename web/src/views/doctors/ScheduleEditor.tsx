import { useMutation } from '@apollo/client/react';
import { useRef, useState, type FormEvent } from 'react';
import type { DoctorProfileFragment, ScheduleWindowInput, Weekday } from '../../gql/graphql';
import type { Problem } from '../../errors';
import { SubmitButton } from '../../ui/buttons';
import { Empty, ErrorAlert, Notice } from '../../ui/status';
import { useAction } from '../../ui/useAction';
import { FixFields, SelectField, TextField, type FieldErrors } from '../patients/fields';
import { SetWeeklyScheduleDocument } from './operations';

export const WEEKDAYS: readonly Weekday[] = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];
export const WEEKDAY_NAME: Record<Weekday, string> = {
  MONDAY: 'Monday',
  TUESDAY: 'Tuesday',
  WEDNESDAY: 'Wednesday',
  THURSDAY: 'Thursday',
  FRIDAY: 'Friday',
  SATURDAY: 'Saturday',
  SUNDAY: 'Sunday',
};

interface Row {
  key: number;
  weekday: Weekday;
  start: string;
  end: string;
  slotMinutes: string;
}

/**
 * The graph's schedule refusals in words: "schedule[1]: end 08:00 must be after start 09:00" →
 * "Row 2: end 08:00 must be after start 09:00"; weekdays and "slotMinutes" as on the screen.
 */
export function scheduleProblemInWords(problem: Problem | null): Problem | null {
  if (!problem) return null;
  let message = problem.message
    .replace(/schedule\[(\d+)\]\.slotMinutes/gi, (_m, i: string) => `Row ${Number(i) + 1}: the slot length`)
    .replace(/schedule\[(\d+)\]\.(start|end)/gi, (_m, i: string, f: string) => `Row ${Number(i) + 1}: the ${f} time`)
    .replace(/schedule\[(\d+)\]/gi, (_m, i: string) => `Row ${Number(i) + 1}`)
    .replace(/^Schedule windows overlap/i, 'Working hours overlap')
    .replace(/\b(MONDAY|TUESDAY|WEDNESDAY|THURSDAY|FRIDAY|SATURDAY|SUNDAY)\b/g, (d) => WEEKDAY_NAME[d as Weekday])
    .replace(/(\d\d:\d\d)-(\d\d:\d\d)/g, '$1–$2');
  const coercion = /got invalid value .* at "schedule\[(\d+)\]\.(\w+)"/.exec(problem.message);
  if (coercion) message = `Row ${Number(coercion[1]) + 1}: the ${coercion[2] === 'slotMinutes' ? 'slot length' : `${coercion[2]} time`} is not valid.`;
  return { ...problem, message };
}

/** Rows of weekday + start + end + slot length in the doctor's own zone, saved as one schedule. */
export function ScheduleEditor({ doctor }: { doctor: DoctorProfileFragment }) {
  const next = useRef(0);
  const rowOf = (w: Omit<Row, 'key' | 'slotMinutes'> & { slotMinutes: number | string }): Row => ({ ...w, slotMinutes: String(w.slotMinutes), key: next.current++ });
  const [rows, setRows] = useState<Row[]>(() => doctor.weeklySchedule.map(rowOf));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saved, setSaved] = useState<string | null>(null);
  const [setSchedule] = useMutation(SetWeeklyScheduleDocument);
  const save = useAction(async (key: string, schedule: ScheduleWindowInput[]) => {
    await setSchedule({ variables: { doctorId: doctor.id, schedule }, context: { idempotencyKey: key } });
    setSaved(schedule.length ? 'Weekly schedule saved.' : 'Weekly schedule cleared: the doctor offers no slots.');
  }, doctor.timeZone);

  const change = (key: number, patch: Partial<Row>) => {
    setSaved(null);
    setRows((rs) => rs.map((r) => (r.key === key ? { ...r, ...patch } : r)));
  };
  const add = () => {
    setSaved(null);
    const last = rows[rows.length - 1];
    const weekday = last ? WEEKDAYS[(WEEKDAYS.indexOf(last.weekday) + 1) % 7]! : 'MONDAY';
    setRows((rs) => [...rs, rowOf({ weekday, start: last?.start ?? '09:00', end: last?.end ?? '17:00', slotMinutes: last?.slotMinutes ?? '30' })]);
  };
  const remove = (key: number) => {
    setSaved(null);
    setRows((rs) => rs.filter((r) => r.key !== key));
  };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const e: FieldErrors = {};
    rows.forEach((r, i) => {
      if (!r.start) e[`start-${r.key}`] = `Row ${i + 1}: please enter a start time.`;
      if (!r.end) e[`end-${r.key}`] = `Row ${i + 1}: please enter an end time.`;
      if (!/^\d+$/.test(r.slotMinutes.trim()) || Number(r.slotMinutes) < 1) e[`slot-${r.key}`] = `Row ${i + 1}: the slot length is a whole number of minutes, like 30.`;
    });
    setErrors(e);
    if (Object.keys(e).length > 0) return;
    void save.run(rows.map((r) => ({ weekday: r.weekday, start: r.start, end: r.end, slotMinutes: Number(r.slotMinutes) })));
  };

  return (
    <form id="schedule-form" noValidate onSubmit={onSubmit} aria-labelledby="schedule-heading">
      <p id="schedule-zone" className="alert alert-info py-2">
        Times are {doctor.name}'s local time in <strong>{doctor.timeZone}</strong>. Each window is cut into slots of the given length.
      </p>
      <FixFields errors={errors} />
      <ErrorAlert problem={scheduleProblemInWords(save.problem)} />
      <Notice text={saved} onDismiss={() => setSaved(null)} />
      {rows.length === 0 && <Empty>No working hours: patients cannot book this doctor. Add a row for each working window.</Empty>}
      <ol className="list-unstyled mb-3" id="schedule-rows">
        {rows.map((r, i) => (
          <li key={r.key} className="border rounded p-2 mb-2 schedule-row">
            <fieldset>
              <legend className="h6 mb-2">Row {i + 1}</legend>
              <div className="row g-2 align-items-end">
                <SelectField id={`weekday-${r.key}`} label="Day" col="col-12 col-md-3" value={r.weekday} onChange={(e) => change(r.key, { weekday: e.target.value as Weekday })}>
                  {WEEKDAYS.map((d) => (
                    <option key={d} value={d}>
                      {WEEKDAY_NAME[d]}
                    </option>
                  ))}
                </SelectField>
                <TextField id={`start-${r.key}`} label="Start" type="time" col="col-6 col-md-2" value={r.start} onChange={(e) => change(r.key, { start: e.target.value })} error={errors[`start-${r.key}`]} />
                <TextField id={`end-${r.key}`} label="End" type="time" col="col-6 col-md-2" value={r.end} onChange={(e) => change(r.key, { end: e.target.value })} error={errors[`end-${r.key}`]} />
                <TextField id={`slot-${r.key}`} label="Slot minutes" inputMode="numeric" col="col-6 col-md-3" value={r.slotMinutes} onChange={(e) => change(r.key, { slotMinutes: e.target.value })} error={errors[`slot-${r.key}`]} />
                <div className="col-6 col-md-2">
                  <button type="button" className="btn btn-outline-danger w-100" onClick={() => remove(r.key)} aria-label={`Remove row ${i + 1}`}>
                    Remove
                  </button>
                </div>
              </div>
            </fieldset>
          </li>
        ))}
      </ol>
      <div className="d-flex flex-wrap gap-2">
        <button type="button" className="btn btn-outline-primary" onClick={add} disabled={save.busy}>
          Add a row
        </button>
        <SubmitButton busy={save.busy}>Save schedule</SubmitButton>
      </div>
    </form>
  );
}
