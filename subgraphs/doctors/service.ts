import type DataLoader from 'dataloader';
import type { SubgraphContext } from '../../platform/context';
import { notFound } from '../../platform/errors';
import { byIdLoader } from '../../platform/loaders';
import { escapeRegex, paginate, type Connection } from '../../platform/pagination';
import { assertNotCleared, assertPhone } from '../../platform/validation';
import type { CreateDoctorInput, ScheduleWindowInput, UpdateDoctorInput } from './__generated__/resolvers-types';
import { normaliseSchedule } from '../../platform/schedule';
import { doctorSortKey, type DoctorDoc, type DoctorModels } from './model';

export interface Context extends SubgraphContext {
  doctors: DoctorService;
  loaders: { doctor: DataLoader<string, DoctorDoc | null> };
}

/** Domain rules of doctors: profiles and weekly schedules (availability lives with appointments). */
export class DoctorService {
  /**
   * @param changed announces that a doctor changed (the live stream's `doctor.changed`: other
   *   services drop what they cached about the doctor); awaited, and it never fails the change.
   */
  constructor(
    private readonly models: DoctorModels,
    private readonly changed: (id: string) => Promise<void> = async () => undefined,
  ) {}

  loaders(): Context['loaders'] {
    return { doctor: byIdLoader(this.models.Doctor) };
  }

  async get(id: string): Promise<DoctorDoc> {
    const doc = await this.models.Doctor.findById(id).lean<DoctorDoc>();
    if (!doc) throw notFound('Doctor', id);
    return doc;
  }

  list(args: { specialty?: string | null; includeInactive?: boolean | null; first?: number | null; after?: string | null }): Promise<Connection<DoctorDoc>> {
    const filter: Record<string, unknown> = {};
    if (!args.includeInactive) filter.active = true;
    const specialty = args.specialty?.trim();
    if (specialty) filter.specialty = { $regex: `^${escapeRegex(specialty)}$`, $options: 'i' };
    return paginate(this.models.Doctor, filter, 'sortKey', args);
  }

  async specialties(): Promise<string[]> {
    const values = (await this.models.Doctor.distinct('specialty', { active: true })) as string[];
    return values.sort((a, b) => a.localeCompare(b));
  }

  async create(input: CreateDoctorInput): Promise<DoctorDoc> {
    assertPhone(input.phone, 'phone');
    const weeklySchedule = normaliseSchedule(input.weeklySchedule ?? []);
    const doc = await this.models.Doctor.create({
      ...input,
      weeklySchedule,
      sortKey: doctorSortKey(input.firstName, input.lastName),
      active: true,
    });
    // New doctors change lists and specialties that others keep (router/publicAnswers.ts).
    await this.changed(String(doc._id));
    return doc.toObject<DoctorDoc>();
  }

  async update(id: string, input: UpdateDoctorInput): Promise<DoctorDoc> {
    assertNotCleared(input, ['firstName', 'lastName', 'specialty', 'timeZone']);
    assertPhone(input.phone, 'phone');
    const $set: Record<string, unknown> = {};
    const $unset: Record<string, 1> = {};
    for (const [key, value] of Object.entries(input)) {
      if (value === undefined) continue;
      if (value === null) $unset[key] = 1;
      else $set[key] = value;
    }
    if (input.firstName || input.lastName) {
      const current = await this.get(id);
      $set.sortKey = doctorSortKey(input.firstName ?? current.firstName, input.lastName ?? current.lastName);
    }
    return this.change(id, { ...(Object.keys($set).length ? { $set } : {}), ...(Object.keys($unset).length ? { $unset } : {}) });
  }

  async setSchedule(id: string, schedule: ScheduleWindowInput[]): Promise<DoctorDoc> {
    return this.change(id, { $set: { weeklySchedule: normaliseSchedule(schedule) } });
  }

  setActive(id: string, active: boolean): Promise<DoctorDoc> {
    return this.change(id, { $set: { active } });
  }

  private async change(id: string, update: Record<string, unknown>): Promise<DoctorDoc> {
    const doc = await this.models.Doctor.findByIdAndUpdate(id, update, { returnDocument: 'after', runValidators: true }).lean<DoctorDoc>();
    if (!doc) throw notFound('Doctor', id);
    await this.changed(id);
    return doc;
  }
}
