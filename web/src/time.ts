/** Times as the clinic reads them: wall-clock in a named IANA zone (the doctor's or the clinic's). */

/** The browser's own zone, used until the clinic's is known. */
export const LOCAL_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

let clinicZone = LOCAL_ZONE;
/**
 * The clinic's zone (Query.clinic.timeZone, set once by the shell at sign-in): the default of
 * every function here, so a time with no doctor's zone is read as the clinic reads it.
 */
export function setClinicZone(zone: string): void {
  clinicZone = zone;
}
export function getClinicZone(): string {
  return clinicZone;
}

const formats = new Map<string, Intl.DateTimeFormat>();
function format(zone: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${zone}|${JSON.stringify(options)}`;
  let f = formats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { ...options, timeZone: zone });
    formats.set(key, f);
  }
  return f;
}

/** "09:30" */
export function timeIn(iso: string, zone = clinicZone): string {
  return format(zone, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso));
}

/** "Thu 4 Dec 2026" */
export function dayIn(iso: string, zone = clinicZone): string {
  return format(zone, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' }).format(new Date(iso));
}

/** A yyyy-mm-dd as "Thu 4 Dec 2026" (a calendar date: no zone involved). */
export function dateLabel(date: string): string {
  return dayIn(`${date}T12:00:00Z`, 'UTC');
}

/** "Thu 4 Dec 2026, 09:30" */
export function dateTimeIn(iso: string, zone = clinicZone): string {
  return `${dayIn(iso, zone)}, ${timeIn(iso, zone)}`;
}

/** yyyy-mm-dd of an instant in a zone (by part type: en-GB lists the day first). */
export function localDateOf(instant: Date, zone = clinicZone): string {
  const parts = format(zone, { year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(instant);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')}`;
}

/** Today's yyyy-mm-dd in a zone. */
export function today(zone = clinicZone): string {
  return localDateOf(new Date(), zone);
}

/** yyyy-mm-dd plus n days (calendar arithmetic, no zone involved). */
export function addDays(date: string, n: number): string {
  const d = new Date(`${date}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** The Monday of the week holding yyyy-mm-dd. */
export function mondayOf(date: string): string {
  const weekday = new Date(`${date}T12:00:00Z`).getUTCDay();
  return addDays(date, -((weekday + 6) % 7));
}

/** Minutes east of UTC of `zone` at `instant`. */
function offsetMinutes(zone: string, instant: Date): number {
  const parts = format(zone, { year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', hourCycle: 'h23' }).formatToParts(instant);
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'));
  return Math.round((asUtc - instant.getTime()) / 60_000);
}

/** The instant of a wall-clock yyyy-mm-dd + hh:mm in `zone` (ISO string). */
export function instantOf(date: string, time: string, zone = clinicZone): string {
  const guess = new Date(`${date}T${time}:00Z`);
  let t = guess.getTime() - offsetMinutes(zone, guess) * 60_000;
  t = guess.getTime() - offsetMinutes(zone, new Date(t)) * 60_000;
  return new Date(t).toISOString();
}

/** The first instant of a local day in `zone` (ISO). */
export function startOfDay(date: string, zone = clinicZone): string {
  return instantOf(date, '00:00', zone);
}

const ISO_INSTANT = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?Z\b/g;

/** Every ISO UTC instant in a text rewritten as "Thu 4 Dec 2026, 09:00" in `zone`. */
export function formatInstantsIn(text: string, zone = clinicZone): string {
  return text.replace(ISO_INSTANT, (iso) => dateTimeIn(iso, zone));
}
