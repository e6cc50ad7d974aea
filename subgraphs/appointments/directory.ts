import { batchRequestId, Coalescer } from '../../platform/coalesce';
import type { EntityCache } from '../../platform/entityCache';
import { ServiceClient } from '../../platform/serviceClient';
import { badInput, notFound } from '../../platform/errors';
import type { ScheduleWindowDoc } from '../../platform/schedule';

export interface DoctorInfo {
  id: string;
  name: string;
  active: boolean;
  timeZone: string;
  specialty: string;
  weeklySchedule: ScheduleWindowDoc[];
}

/** Answers kept between requests: dropped when doctors or patients announce a change (platform/entityCache.ts). */
export interface DirectoryCaches {
  doctors: EntityCache<DoctorInfo>;
  /** Patients known to exist (an erasure drops one). */
  patients: EntityCache<true>;
}

/** What appointments needs to know from the doctors and patients services, asked over their APIs. */
interface CareRelation {
  patientId: string;
  doctorId: string;
  requestId: string;
}

export class Directory {
  /** Care relations of bookings made at the same time go to patients in one request. */
  private readonly careRelations: Coalescer<CareRelation, Error | null>;

  constructor(
    private readonly client: ServiceClient,
    private readonly caches: DirectoryCaches | null = null,
  ) {
    this.careRelations = new Coalescer((pairs) => this.recordCareRelations(pairs));
  }

  /** `since`: when the request began (`performance.now()`); a cached answer reflects every change announced before it. */
  doctor(id: string, requestId: string, since?: number): Promise<DoctorInfo> {
    const load = async () => {
      const [doc] = await this.client.entities<DoctorInfo>(
        'doctors',
        'Doctor',
        [id],
        'id name active timeZone specialty weeklySchedule { weekday start end slotMinutes }',
        requestId,
      );
      if (!doc) throw notFound('Doctor', id);
      return doc;
    };
    return this.caches ? this.caches.doctors.get(id, load, since) : load();
  }

  async activeDoctor(id: string, requestId: string, since?: number): Promise<DoctorInfo> {
    const doc = await this.doctor(id, requestId, since);
    if (!doc.active) throw badInput(`${doc.name} is not taking appointments`, 'doctorId');
    return doc;
  }

  async assertPatientExists(id: string, requestId: string, since?: number): Promise<void> {
    const load = async (): Promise<true> => {
      const [p] = await this.client.entities<{ id: string }>('patients', 'Patient', [id], 'id', requestId);
      if (!p) throw notFound('Patient', id);
      return true;
    };
    await (this.caches ? this.caches.patients.get(id, load, since) : load());
  }

  /** Whether the doctor already treats the patient (patients owns care relations). */
  async treats(doctorId: string, patientId: string, requestId: string): Promise<boolean> {
    const data = await this.client.query<{ treats: string[] }>(
      'patients',
      'query($d: ObjectID!, $p: [ObjectID!]!) { treats(doctorId: $d, patientIds: $p) }',
      { d: doctorId, p: [patientId] },
      requestId,
    );
    return data.treats.includes(patientId);
  }

  /** The doctor may now see the patient's record. */
  async recordCareRelation(patientId: string, doctorId: string, requestId: string): Promise<void> {
    const failure = await this.careRelations.load({ patientId, doctorId, requestId });
    if (failure) throw failure;
  }

  /**
   * Several care relations as aliased fields of one mutation: patients reads the patients in one
   * query and writes the relations in one insert. When that fails (e.g. one patient was erased
   * meanwhile), each is sent alone, so only the failing one fails.
   */
  private async recordCareRelations(pairs: CareRelation[]): Promise<(Error | null)[]> {
    const send = async (batch: CareRelation[]) => {
      const fields = batch.map((_p, i) => `r${i}: recordCareRelation(patientId: $p${i}, doctorId: $d${i})`);
      const params = batch.map((_p, i) => `$p${i}: ObjectID!, $d${i}: ObjectID!`);
      const variables = Object.fromEntries(batch.flatMap((p, i) => [[`p${i}`, p.patientId], [`d${i}`, p.doctorId]]));
      await this.client.query('patients', `mutation(${params.join(', ')}) { ${fields.join(' ')} }`, variables, batchRequestId(batch.map((p) => p.requestId)));
    };
    try {
      await send(pairs);
      return pairs.map(() => null);
    } catch (err) {
      if (pairs.length === 1) return [err as Error];
      return Promise.all(pairs.map((p) => send([p]).then(() => null, (e: unknown) => e as Error)));
    }
  }
}
