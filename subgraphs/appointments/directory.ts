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
export class Directory {
  constructor(
    private readonly client: ServiceClient,
    private readonly caches: DirectoryCaches | null = null,
  ) {}

  doctor(id: string, requestId: string): Promise<DoctorInfo> {
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
    return this.caches ? this.caches.doctors.get(id, load) : load();
  }

  async activeDoctor(id: string, requestId: string): Promise<DoctorInfo> {
    const doc = await this.doctor(id, requestId);
    if (!doc.active) throw badInput(`${doc.name} is not taking appointments`, 'doctorId');
    return doc;
  }

  async assertPatientExists(id: string, requestId: string): Promise<void> {
    const load = async (): Promise<true> => {
      const [p] = await this.client.entities<{ id: string }>('patients', 'Patient', [id], 'id', requestId);
      if (!p) throw notFound('Patient', id);
      return true;
    };
    await (this.caches ? this.caches.patients.get(id, load) : load());
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
    await this.client.query(
      'patients',
      'mutation($p: ObjectID!, $d: ObjectID!) { recordCareRelation(patientId: $p, doctorId: $d) }',
      { p: patientId, d: doctorId },
      requestId,
    );
  }
}
