import { DateTime } from 'luxon';
import { badInput } from './errors';

export const WEEKDAYS = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** A recurring working window in a doctor's weekly schedule, local to the doctor's time zone. */
export interface ScheduleWindowDoc {
  weekday: Weekday;
  /** HH:MM in the doctor's zone. */
  start: string;
  end: string;
  slotMinutes: number;
}

export const MAX_SLOT_RANGE_DAYS = 31;

export interface Slot {
  start: Date;
  end: Date;
}

/** "HH:MM[:SS[.sss]]" → minutes after midnight; seconds must be zero. */
export function toMinutes(time: string, field: string): number {
  const m = /^(\d\d):(\d\d)(?::(\d\d)(?:\.\d+)?)?$/.exec(time);
  if (!m || (m[3] !== undefined && Number(m[3]) !== 0)) throw badInput(`${field} must be a whole minute like 09:30`, field);
  return Number(m[1]) * 60 + Number(m[2]);
}

const hhmm = (minutes: number) =>
  `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

/** Validates a weekly schedule and returns it normalised (HH:MM, sorted by weekday then start). */
export function normaliseSchedule(windows: readonly ScheduleWindowDoc[]): ScheduleWindowDoc[] {
  const out = windows.map((w, i) => {
    const start = toMinutes(w.start, `schedule[${i}].start`);
    const end = toMinutes(w.end, `schedule[${i}].end`);
    if (end <= start) throw badInput(`schedule[${i}]: end ${w.end} must be after start ${w.start}`, `schedule[${i}].end`);
    if (w.slotMinutes < 5 || w.slotMinutes > 480) {
      throw badInput(`schedule[${i}].slotMinutes must be between 5 and 480`, `schedule[${i}].slotMinutes`);
    }
    if (end - start < w.slotMinutes) {
      throw badInput(`schedule[${i}] is shorter than one ${w.slotMinutes}-minute slot`, `schedule[${i}]`);
    }
    return { weekday: w.weekday, start: hhmm(start), end: hhmm(end), slotMinutes: w.slotMinutes, s: start, e: end };
  });
  out.sort((a, b) => WEEKDAYS.indexOf(a.weekday) - WEEKDAYS.indexOf(b.weekday) || a.s - b.s);
  for (let i = 1; i < out.length; i++) {
    if (out[i].weekday === out[i - 1].weekday && out[i].s < out[i - 1].e) {
      throw badInput(
        `schedule windows overlap on ${out[i].weekday}: ${out[i - 1].start}-${out[i - 1].end} and ${out[i].start}-${out[i].end}`,
        'schedule',
      );
    }
  }
  return out.map(({ weekday, start, end, slotMinutes }) => ({ weekday, start, end, slotMinutes }));
}

/**
 * Slots of a weekly schedule between two instants, computed day by day in the doctor's zone, so
 * 09:00 stays 09:00 local across daylight-saving changes. Only slots wholly inside [from, to] and
 * starting at or after `notBefore` are returned.
 */
export function slotsBetween(
  schedule: readonly ScheduleWindowDoc[],
  zone: string,
  from: Date,
  to: Date,
  notBefore: Date = new Date(),
): Slot[] {
  if (to.getTime() <= from.getTime()) throw badInput('`to` must be after `from`', 'to');
  if (to.getTime() - from.getTime() > MAX_SLOT_RANGE_DAYS * 86_400_000) {
    throw badInput(`from and to may be at most ${MAX_SLOT_RANGE_DAYS} days apart`, 'to');
  }
  const earliest = Math.max(from.getTime(), notBefore.getTime());
  const slots: Slot[] = [];
  const lastDay = DateTime.fromJSDate(to, { zone }).startOf('day');
  for (let day = DateTime.fromJSDate(from, { zone }).startOf('day'); day <= lastDay; day = day.plus({ days: 1 })) {
    const weekday = WEEKDAYS[day.weekday - 1];
    // On a day without a change of UTC offset, local minute m of the day is the day's start plus
    // m minutes: plain arithmetic. On a daylight-saving day luxon places each slot (a local time
    // in the gap moves forward, an ambiguous one takes luxon's offset).
    const dayStart = day.toMillis();
    const steady = day.offset === day.endOf('day').offset;
    for (const w of schedule) {
      if (w.weekday !== weekday) continue;
      const startMin = toMinutes(w.start, 'start');
      const endMin = toMinutes(w.end, 'end');
      for (let m = startMin; m + w.slotMinutes <= endMin; m += w.slotMinutes) {
        let start: number;
        let end: number;
        if (steady) {
          start = dayStart + m * 60_000;
          end = start + w.slotMinutes * 60_000;
        } else {
          const local = day.set({ hour: Math.floor(m / 60), minute: m % 60 });
          start = local.toMillis();
          end = local.plus({ minutes: w.slotMinutes }).toMillis();
        }
        if (start >= earliest && end <= to.getTime()) slots.push({ start: new Date(start), end: new Date(end) });
      }
    }
  }
  return slots;
}
