import type { Connection, mongo } from 'mongoose';
import { Types } from 'mongoose';
import type { Config } from '../../platform/config';
import { batchRequestId, Coalescer } from '../../platform/coalesce';
import { WHOLE_ANSWER_BATCH } from '../../platform/loaders';
import { ServiceClient } from '../../platform/serviceClient';
import { appointmentsCollection, type AppointmentDoc } from '../appointments/model';

export interface PatientContact {
  id: string;
  firstName: string;
  phone: string | null;
  email: string | null;
  timeZone: string | null;
}
export interface DoctorCard {
  id: string;
  name: string;
  specialty: string;
}
export interface StaffUser {
  id: string;
  role: string;
}

const PATIENT_CONTACT = 'id firstName phone email timeZone';

/**
 * What notifications reads elsewhere: appointments straight from their collection (read-only, as
 * the design allows for reminders), people through the owning services' APIs.
 */
export class Directory {
  private readonly appointmentsCol: mongo.Collection<AppointmentDoc>;
  /** Contacts asked for by jobs running at the same time go to patients in one call. */
  private readonly contacts: Coalescer<{ id: string; requestId: string }, PatientContact | null>;
  /** Likewise appointments: one read for those asked for meanwhile. */
  private readonly appointmentReads: Coalescer<string, AppointmentDoc | null>;

  constructor(
    conn: Connection,
    cfg: Config,
    private readonly client: ServiceClient,
  ) {
    this.appointmentsCol = appointmentsCollection(conn, cfg);
    this.contacts = new Coalescer((keys) =>
      this.client.entities<PatientContact>('patients', 'Patient', keys.map((k) => k.id), PATIENT_CONTACT, batchRequestId(keys.map((k) => k.requestId))),
    );
    this.appointmentReads = new Coalescer(async (ids) => {
      const byId = await this.appointments(ids);
      return ids.map((id) => byId.get(id) ?? null);
    });
  }

  appointment(id: string): Promise<AppointmentDoc | null> {
    return Types.ObjectId.isValid(id) ? this.appointmentReads.load(String(new Types.ObjectId(id))) : Promise.resolve(null);
  }

  /** Many appointments by id in one index-served read (due reminders). */
  async appointments(ids: string[]): Promise<Map<string, AppointmentDoc>> {
    const valid = ids.filter((id) => Types.ObjectId.isValid(id)).map((id) => new Types.ObjectId(id));
    const found = valid.length ? await this.appointmentsCol.find({ _id: { $in: valid } }, { batchSize: WHOLE_ANSWER_BATCH }).toArray() : [];
    return new Map(found.map((a) => [String(a._id), a]));
  }

  /** Scheduled appointments starting in [from, to): the reminder sweep's safety net. */
  upcoming(from: Date, to: Date): Promise<AppointmentDoc[]> {
    return this.appointmentsCol.find({ status: 'SCHEDULED', start: { $gte: from, $lt: to } }).limit(5000).toArray();
  }

  patient(id: string, requestId: string): Promise<PatientContact | null> {
    return this.contacts.load({ id, requestId });
  }

  /** Time zones of many patients in one call (null where unknown). */
  async patientZones(ids: string[], requestId: string): Promise<Map<string, string | null>> {
    const unique = [...new Set(ids)];
    const found = unique.length ? await this.client.entities<PatientContact>('patients', 'Patient', unique, 'id timeZone', requestId) : [];
    return new Map(unique.map((id, i) => [id, found[i]?.timeZone ?? null]));
  }

  /** Many patients in one call: id → contact (absent when the record no longer exists). */
  async patients(ids: string[], requestId: string): Promise<Map<string, PatientContact>> {
    const unique = [...new Set(ids)];
    const found = unique.length ? await this.client.entities<PatientContact>('patients', 'Patient', unique, PATIENT_CONTACT, requestId) : [];
    return new Map(found.flatMap((p, i) => (p ? [[unique[i], p] as const] : [])));
  }

  /** Many doctors in one call: id → card. */
  async doctors(ids: string[], requestId: string): Promise<Map<string, DoctorCard>> {
    const unique = [...new Set(ids)];
    const found = unique.length ? await this.client.entities<DoctorCard>('doctors', 'Doctor', unique, 'id name specialty', requestId) : [];
    return new Map(found.flatMap((d, i) => (d ? [[unique[i], d] as const] : [])));
  }

  async doctor(id: string, requestId: string): Promise<DoctorCard | null> {
    const [d] = await this.client.entities<DoctorCard>('doctors', 'Doctor', [id], 'id name specialty', requestId);
    return d;
  }

  /** Active staff users with one of these roles (for alerts). */
  async staff(roles: string[], requestId: string): Promise<StaffUser[]> {
    const out: StaffUser[] = [];
    for (const role of roles) {
      const data = await this.client.query<{ users: { edges: { node: StaffUser & { active: boolean } }[] } }>(
        'accounts',
        `query($r: Role) { users(role: $r, first: 100) { edges { node { id role active } } } }`,
        { r: role },
        requestId,
      );
      out.push(...data.users.edges.map((e) => e.node).filter((u) => u.active));
    }
    return out;
  }
}
