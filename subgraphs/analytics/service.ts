import type { SubgraphContext } from '../../platform/context';
import { forbidden } from '../../platform/errors';
import type { Identity } from '../../platform/identity';
import type { ServiceClient } from '../../platform/serviceClient';
import type { AnalyticsReport } from './__generated__/resolvers-types';
import { toCsv } from './csv';
import type { Backfill } from './backfill';
import type { Folder } from './fold';
import type { Granularity, Range, Reports } from './reports';

export interface Context extends SubgraphContext {
  analytics: AnalyticsService;
}

/** Reports for admins; a doctor gets their own figures only. */
export class AnalyticsService {
  constructor(
    readonly reports: Reports,
    private readonly folder: Folder,
    private readonly backfill: Backfill,
    private readonly client: ServiceClient,
  ) {}

  refresh(fromAppointments: boolean) {
    return fromAppointments ? this.backfill.run() : this.folder.run();
  }

  perDoctor(range: Range, status: string | null | undefined, identity: Identity) {
    return this.reports.perDoctor(range, status, identity.role === 'DOCTOR' ? (identity.doctorId ?? '-') : undefined);
  }

  async csv(report: AnalyticsReport, range: Range, identity: Identity, requestId: string): Promise<string> {
    if (identity.role === 'DOCTOR' && report !== 'APPOINTMENTS_PER_DOCTOR') throw forbidden('Doctors can export their own appointment figures only');
    switch (report) {
      case 'APPOINTMENTS_PER_DOCTOR': {
        const r = await this.perDoctor(range, null, identity);
        const doctors = await this.client.entities<{ name: string }>('doctors', 'Doctor', r.rows.map((x) => x.doctorId), 'name', requestId);
        return toCsv(['doctor_id', 'doctor', 'specialty', 'appointments'], r.rows.map((x, i) => [x.doctorId, doctors[i]?.name ?? '', x.specialty, x.count]));
      }
      case 'APPOINTMENTS_OVER_TIME': {
        const r = await this.reports.overTime(range, 'DAY' as Granularity);
        return toCsv(['date', 'appointments'], r.rows.map((x) => [x.period, x.count]));
      }
      case 'CONDITIONS_BY_SPECIALTY': {
        const r = await this.reports.conditions(range, 1000);
        return toCsv(['specialty', 'condition', 'count'], r.specialties.flatMap((s) => s.top.map((c) => [s.specialty, c.condition, c.count])));
      }
      case 'AVERAGE_APPOINTMENTS_PER_PATIENT': {
        const r = await this.reports.averagePerPatient(range);
        return toCsv(['from', 'to', 'total_appointments', 'total_patients', 'average'], [[range.from, range.to, r.totalAppointments, r.totalPatients, r.average]]);
      }
    }
  }
}
