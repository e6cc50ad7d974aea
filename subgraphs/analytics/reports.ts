import { DateTime } from 'luxon';
import type { Connection, mongo } from 'mongoose';
import type { Config } from '../../platform/config';
import { badInput } from '../../platform/errors';
import { appointmentsCollection, type AppointmentDoc, type AppointmentStatus } from '../appointments/model';
import { inParallel, READS } from './inParallel';
import type { AnalyticsModels, DayDoc, RunDoc } from './model';

export interface Range {
  from: string;
  to: string;
}
export type Granularity = 'DAY' | 'WEEK' | 'MONTH';
const MAX_RANGE_DAYS = 3660;

function assertRange(r: Range): void {
  if (r.to < r.from) throw badInput('range.to cannot be before range.from', 'range');
  if (DateTime.fromISO(r.to).diff(DateTime.fromISO(r.from), 'days').days > MAX_RANGE_DAYS) throw badInput('The range may span at most ten years', 'range');
}

/** First day of the period a calendar date falls in. */
export function periodStart(localDate: string, granularity: Granularity): string {
  const d = DateTime.fromISO(localDate, { zone: 'UTC' });
  if (granularity === 'WEEK') return d.startOf('week').toISODate()!;
  if (granularity === 'MONTH') return d.startOf('month').toISODate()!;
  return localDate;
}

/**
 * A range as the whole months inside it plus the days of the partial months at its ends, so that
 * "a visit on a day in the range" is a plain `$in` on a patient's months or days.
 */
export function monthsAndEdgeDays(range: Range): { months: string[]; days: string[] } {
  const months: string[] = [];
  const days: string[] = [];
  const last = DateTime.fromISO(range.to, { zone: 'UTC' });
  for (let d = DateTime.fromISO(range.from, { zone: 'UTC' }); d <= last; ) {
    const monthEnd = d.endOf('month').startOf('day');
    if (d.day === 1 && monthEnd <= last) {
      months.push(d.toFormat('yyyy-MM'));
      d = monthEnd.plus({ days: 1 });
    } else {
      days.push(d.toISODate()!);
      d = d.plus({ days: 1 });
    }
  }
  return { months, days };
}

/**
 * The reports, read from the materialised day documents (fold.ts): one document per calendar day
 * in the range, summed here, plus one count over the patients' visit days for Avg_p. Their cost
 * depends on the days in the range, not on the number of appointments.
 */
export class Reports {
  private readonly appointments: mongo.Collection<AppointmentDoc>;

  constructor(
    private readonly models: AnalyticsModels,
    conn: Connection,
    cfg: Config,
  ) {
    this.appointments = appointmentsCollection(conn, cfg);
  }

  private async computedAt(): Promise<Date | null> {
    return (await this.models.Run.findById('current').lean<RunDoc>())?.computedAt ?? null;
  }

  /**
   * The day documents of the range, each read by its `_id` (the date): FerretDB uses an index for
   * nothing else, so a range filter would read every day document there is, and a one-month report
   * would cost as much as one over all the years.
   */
  private async days(range: Range): Promise<DayDoc[]> {
    assertRange(range);
    const dates: string[] = [];
    const last = DateTime.fromISO(range.to, { zone: 'UTC' });
    for (let d = DateTime.fromISO(range.from, { zone: 'UTC' }); d <= last; d = d.plus({ days: 1 })) dates.push(d.toISODate()!);
    const found = await inParallel(dates, READS, (id) => this.models.Day.findById(id).lean<DayDoc>());
    return found.filter((d): d is DayDoc => d !== null);
  }

  async perDoctor(range: Range, status?: string | null, doctorId?: string) {
    const [days, computedAt] = await Promise.all([this.days(range), this.computedAt()]);
    const sums = new Map<string, { doctorId: string; specialty: string; count: number }>();
    for (const day of days)
      for (const e of day.doctors) {
        if ((status && e.status !== status) || (doctorId && e.doctorId !== doctorId)) continue;
        const key = `${e.doctorId}|${e.specialty}`;
        const row = sums.get(key) ?? sums.set(key, { doctorId: e.doctorId, specialty: e.specialty, count: 0 }).get(key)!;
        row.count += e.n;
      }
    const rows = [...sums.values()].sort((a, b) => b.count - a.count || a.doctorId.localeCompare(b.doctorId));
    return { rows, total: rows.reduce((s, r) => s + r.count, 0), computedAt };
  }

  async overTime(range: Range, granularity: Granularity, status?: string | null) {
    const [days, computedAt] = await Promise.all([this.days(range), this.computedAt()]);
    const buckets = new Map<string, number>();
    for (const day of days) {
      const n = day.doctors.reduce((s, e) => s + (!status || e.status === status ? e.n : 0), 0);
      if (!n) continue;
      const p = periodStart(day._id, granularity);
      buckets.set(p, (buckets.get(p) ?? 0) + n);
    }
    const rows = [...buckets].map(([period, count]) => ({ period, count })).sort((a, b) => a.period.localeCompare(b.period));
    return { granularity, rows, total: rows.reduce((s, r) => s + r.count, 0), computedAt };
  }

  async conditions(range: Range, top: number) {
    const [days, computedAt] = await Promise.all([this.days(range), this.computedAt()]);
    const bySpecialty = new Map<string, Map<string, number>>();
    for (const day of days)
      for (const e of day.conditions) {
        const counts = bySpecialty.get(e.specialty) ?? bySpecialty.set(e.specialty, new Map()).get(e.specialty)!;
        counts.set(e.condition, (counts.get(e.condition) ?? 0) + e.n);
      }
    const specialties = [...bySpecialty]
      .map(([specialty, counts]) => ({
        specialty,
        top: [...counts]
          .map(([condition, count]) => ({ condition, count }))
          .sort((a, b) => b.count - a.count || a.condition.localeCompare(b.condition))
          .slice(0, top),
      }))
      .sort((a, b) => a.specialty.localeCompare(b.specialty));
    return { specialties, computedAt };
  }

  async averagePerPatient(range: Range) {
    const [days, computedAt] = await Promise.all([this.days(range), this.computedAt()]);
    const totalAppointments = days.reduce((s, day) => s + day.doctors.reduce((t, e) => t + e.n, 0), 0);
    const { months, days: edgeDays } = monthsAndEdgeDays(range);
    const anyVisit = [...(months.length ? [{ months: { $in: months } }] : []), ...(edgeDays.length ? [{ days: { $in: edgeDays } }] : [])];
    const totalPatients = await this.models.PatientDays.countDocuments({ $or: anyVisit });
    return { totalAppointments, totalPatients, average: totalPatients ? totalAppointments / totalPatients : 0, computedAt };
  }

  async doctorStats(doctorId: string, range: Range) {
    const [days, computedAt] = await Promise.all([this.days(range), this.computedAt()]);
    const byStatus = new Map<AppointmentStatus, number>();
    for (const day of days) for (const e of day.doctors) if (e.doctorId === doctorId) byStatus.set(e.status as AppointmentStatus, (byStatus.get(e.status as AppointmentStatus) ?? 0) + e.n);
    const rows = [...byStatus].map(([status, count]) => ({ status, count })).sort((a, b) => a.status.localeCompare(b.status));
    return { total: rows.reduce((s, r) => s + r.count, 0), byStatus: rows, computedAt };
  }

  /** Live from the appointments collection: one patient's visits are few. */
  async visitSummary(patientId: string) {
    const byStatusRows = await this.appointments.aggregate<{ _id: AppointmentStatus; count: number }>([{ $match: { patientId } }, { $group: { _id: '$status', count: { $sum: 1 } } }]).toArray();
    const conditionRows = await this.appointments
      .aggregate<{ _id: string; count: number }>([{ $match: { patientId, status: 'COMPLETED' } }, { $unwind: '$conditions' }, { $group: { _id: '$conditions', count: { $sum: 1 } } }])
      .toArray();
    const visited = { patientId, status: 'COMPLETED' as const };
    const [first] = await this.appointments.find(visited, { projection: { localDate: 1 } }).sort({ start: 1 }).limit(1).toArray();
    const [last] = await this.appointments.find(visited, { projection: { localDate: 1 } }).sort({ start: -1 }).limit(1).toArray();
    const byStatus = byStatusRows.map((r) => ({ status: r._id, count: r.count })).sort((a, b) => a.status.localeCompare(b.status));
    return {
      totalVisits: byStatus.reduce((s, r) => s + r.count, 0),
      byStatus,
      firstVisit: first?.localDate ?? null,
      lastVisit: last?.localDate ?? null,
      conditions: conditionRows.map((r) => ({ condition: r._id, count: r.count })).sort((a, b) => b.count - a.count || a.condition.localeCompare(b.condition)),
    };
  }
}
