import { DateTime } from 'luxon';
import type { Connection, mongo } from 'mongoose';
import { dbName, type Config } from '../../platform/config';
import { badInput } from '../../platform/errors';
import type { AppointmentDoc, AppointmentStatus } from '../appointments/model';
import type { AnalyticsModels, RunDoc } from './model';

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
 * The reports, read from the current materialised generation with small aggregations ($match,
 * $group/$sum); their cost depends on days × doctors in the range, not on the number of
 * appointments. Ratios and week/month buckets are computed here from grouped counts.
 */
export class Reports {
  private readonly appointments: mongo.Collection<AppointmentDoc>;

  constructor(
    private readonly models: AnalyticsModels,
    conn: Connection,
    cfg: Config,
  ) {
    this.appointments = conn.useDb(dbName(cfg, 'appointments'), { useCache: true }).db!.collection<AppointmentDoc>('appointments');
  }

  private async current(): Promise<RunDoc | null> {
    return this.models.Run.findById('current').lean<RunDoc>();
  }

  private match(run: RunDoc | null, range: Range, extra: Record<string, unknown> = {}) {
    return { gen: run?.gen ?? '-', localDate: { $gte: range.from, $lte: range.to }, ...extra };
  }

  async perDoctor(range: Range, status?: string | null, doctorId?: string) {
    assertRange(range);
    const run = await this.current();
    const rows = await this.models.DailyStatus.aggregate<{ _id: { doctorId: string; specialty: string }; count: number }>([
      { $match: this.match(run, range, { ...(status ? { status } : {}), ...(doctorId ? { doctorId } : {}) }) },
      { $group: { _id: { doctorId: '$doctorId', specialty: '$specialty' }, count: { $sum: '$count' } } },
    ]);
    const out = rows.map((r) => ({ doctorId: r._id.doctorId, specialty: r._id.specialty, count: r.count })).sort((a, b) => b.count - a.count || a.doctorId.localeCompare(b.doctorId));
    return { rows: out, total: out.reduce((s, r) => s + r.count, 0), computedAt: run?.computedAt ?? null };
  }

  async overTime(range: Range, granularity: Granularity, status?: string | null) {
    assertRange(range);
    const run = await this.current();
    const days = await this.models.DailyStatus.aggregate<{ _id: string; count: number }>([
      { $match: this.match(run, range, status ? { status } : {}) },
      { $group: { _id: '$localDate', count: { $sum: '$count' } } },
    ]);
    const buckets = new Map<string, number>();
    for (const d of days) {
      const p = periodStart(d._id, granularity);
      buckets.set(p, (buckets.get(p) ?? 0) + d.count);
    }
    const rows = [...buckets].map(([period, count]) => ({ period, count })).sort((a, b) => a.period.localeCompare(b.period));
    return { granularity, rows, total: rows.reduce((s, r) => s + r.count, 0), computedAt: run?.computedAt ?? null };
  }

  async conditions(range: Range, top: number) {
    assertRange(range);
    const run = await this.current();
    const rows = await this.models.DailyCondition.aggregate<{ _id: { specialty: string; condition: string }; count: number }>([
      { $match: this.match(run, range) },
      { $group: { _id: { specialty: '$specialty', condition: '$condition' }, count: { $sum: '$count' } } },
    ]);
    const bySpecialty = new Map<string, { condition: string; count: number }[]>();
    for (const r of rows) bySpecialty.set(r._id.specialty, [...(bySpecialty.get(r._id.specialty) ?? []), { condition: r._id.condition, count: r.count }]);
    const specialties = [...bySpecialty]
      .map(([specialty, list]) => ({ specialty, top: list.sort((a, b) => b.count - a.count || a.condition.localeCompare(b.condition)).slice(0, top) }))
      .sort((a, b) => a.specialty.localeCompare(b.specialty));
    return { specialties, computedAt: run?.computedAt ?? null };
  }

  async averagePerPatient(range: Range) {
    assertRange(range);
    const run = await this.current();
    const [appointments] = await this.models.DailyStatus.aggregate<{ n: number }>([
      { $match: this.match(run, range) },
      { $group: { _id: null, n: { $sum: '$count' } } },
    ]);
    const [patients] = await this.models.DailyPatient.aggregate<{ n: number }>([
      { $match: this.match(run, range) },
      { $group: { _id: '$patientId' } },
      { $count: 'n' },
    ]);
    const totalAppointments = appointments?.n ?? 0;
    const totalPatients = patients?.n ?? 0;
    return { totalAppointments, totalPatients, average: totalPatients ? totalAppointments / totalPatients : 0, computedAt: run?.computedAt ?? null };
  }

  async doctorStats(doctorId: string, range: Range) {
    assertRange(range);
    const run = await this.current();
    const rows = await this.models.DailyStatus.aggregate<{ _id: AppointmentStatus; count: number }>([
      { $match: this.match(run, range, { doctorId }) },
      { $group: { _id: '$status', count: { $sum: '$count' } } },
    ]);
    const byStatus = rows.map((r) => ({ status: r._id, count: r.count })).sort((a, b) => a.status.localeCompare(b.status));
    return { total: byStatus.reduce((s, r) => s + r.count, 0), byStatus, computedAt: run?.computedAt ?? null };
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
