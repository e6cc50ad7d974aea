import { Types } from 'mongoose';
import DataLoader from 'dataloader';
import type { SubgraphContext } from '../../platform/context';
import type { Identity } from '../../platform/identity';
import { badInput, isDuplicateKey, notFound } from '../../platform/errors';
import { byIdLoader, WHOLE_ANSWER_BATCH } from '../../platform/loaders';
import { escapeRegex, paginate, type Connection } from '../../platform/pagination';
import { assertNotCleared, assertPastDate, assertPastInstant, assertPhone } from '../../platform/validation';
import type {
  LabResultInput,
  MedicalHistoryInput,
  RegisterPatientInput,
  UpdatePatientInput,
} from './__generated__/resolvers-types';
import { patientSortKey, type PatientDoc, type PatientModels } from './model';

export interface Context extends SubgraphContext {
  patients: PatientService;
  loaders: {
    patient: DataLoader<string, PatientDoc | null>;
    /** doctorId → ids of all the patients that doctor treats (once per request; a doctor's patient list). */
    patientsOfDoctor: DataLoader<string, Set<string>>;
    /** Whether a doctor treats a patient: reads only the pairs a request asks about, not all of a doctor's patients. */
    treats: DataLoader<CarePair, boolean, string>;
    /** Care relations recorded in one request (several aliased `recordCareRelation`s): one insert. */
    careRelations: DataLoader<CarePair, true, string>;
  };
}

export interface CarePair {
  patientId: string;
  doctorId: string;
}

/** Domain rules of patient records: validation, state changes, lookups. */
export class PatientService {
  /**
   * @param erased announces an erased record (the live stream's `patient.changed`: other services
   *   drop what they cached, e.g. that the patient exists); awaited, never fails the erasure.
   */
  constructor(
    private readonly models: PatientModels,
    private readonly clinicZone: string,
    private readonly erased: (id: string) => Promise<void> = async () => undefined,
  ) {}

  loaders(): Context['loaders'] {
    return {
      patient: byIdLoader(this.models.Patient),
      patientsOfDoctor: new DataLoader(async (doctorIds) => {
        const rows = await this.models.CareRelation.find({ doctorId: { $in: doctorIds } }, { patientId: 1, doctorId: 1 }, { batchSize: WHOLE_ANSWER_BATCH }).lean();
        return doctorIds.map((d) => new Set(rows.filter((r) => r.doctorId === d).map((r) => r.patientId)));
      }),
      treats: new DataLoader<CarePair, boolean, string>(
        async (pairs) => {
          const byDoctor = new Map<string, string[]>();
          for (const p of pairs) byDoctor.set(p.doctorId, [...(byDoctor.get(p.doctorId) ?? []), p.patientId]);
          // One lookup per doctor (a request has one, mostly), on the {doctorId, patientId} index.
          const found = await Promise.all(
            [...byDoctor].map(([doctorId, patientIds]) => this.models.CareRelation.find({ doctorId, patientId: { $in: patientIds } }, { patientId: 1, doctorId: 1 }, { batchSize: WHOLE_ANSWER_BATCH }).lean()),
          );
          const treated = new Set(found.flat().map((r) => `${r.patientId}|${r.doctorId}`));
          return pairs.map((p) => treated.has(`${p.patientId}|${p.doctorId}`));
        },
        { cacheKeyFn: (p) => `${p.patientId}|${p.doctorId}` },
      ),
      careRelations: new DataLoader<CarePair, true, string>(
        async (pairs) => {
          await this.addCareRelations([...pairs]);
          return pairs.map(() => true as const);
        },
        { cacheKeyFn: (p) => `${p.patientId}|${p.doctorId}` },
      ),
    };
  }

  /** Records that a doctor treats a patient (idempotent). */
  async addCareRelation(patientId: string, doctorId: string): Promise<void> {
    await this.addCareRelations([{ patientId, doctorId }]);
  }

  /** Records that doctors treat patients, in one write; pairs recorded before are left as they are. */
  async addCareRelations(pairs: CarePair[]): Promise<void> {
    const since = new Date();
    try {
      await this.models.CareRelation.insertMany(
        pairs.map((p) => ({ patientId: p.patientId, doctorId: p.doctorId, since })),
        { ordered: false },
      );
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  }

  async get(id: string): Promise<PatientDoc> {
    const doc = await this.models.Patient.findById(id).lean<PatientDoc>();
    if (!doc) throw notFound('Patient', id);
    return doc;
  }

  /** Patients the caller may list: everyone for staff, only their own patients for a doctor. */
  async list(
    args: { search?: string | null; first?: number | null; after?: string | null },
    identity: Identity,
    loaders: Context['loaders'],
  ): Promise<Connection<PatientDoc>> {
    const search = args.search?.trim();
    const filter: Record<string, unknown> = search
      ? {
          $or: [
            { firstName: { $regex: `^${escapeRegex(search)}`, $options: 'i' } },
            { lastName: { $regex: `^${escapeRegex(search)}`, $options: 'i' } },
            { email: { $regex: `^${escapeRegex(search.toLowerCase())}` } },
          ],
        }
      : {};
    if (identity.role === 'DOCTOR') {
      const own = identity.doctorId ? [...(await loaders.patientsOfDoctor.load(identity.doctorId))] : [];
      filter._id = { $in: own.map((id) => new Types.ObjectId(id)) };
    }
    return paginate(this.models.Patient, filter, 'sortKey', args);
  }

  async register(input: RegisterPatientInput): Promise<PatientDoc> {
    this.validateDemographics(input);
    const doc = await this.models.Patient.create({
      ...input,
      sortKey: patientSortKey(input.firstName, input.lastName),
      allergies: input.allergies ?? [],
    });
    return doc.toObject<PatientDoc>();
  }

  async update(id: string, input: UpdatePatientInput): Promise<PatientDoc> {
    assertNotCleared(input, ['firstName', 'lastName', 'dateOfBirth', 'sex']);
    this.validateDemographics(input);
    const $set: Record<string, unknown> = {};
    const $unset: Record<string, 1> = {};
    for (const [key, value] of Object.entries(input)) {
      if (value === undefined) continue;
      if (value === null) $unset[key] = 1;
      else $set[key] = value;
    }
    if (input.firstName || input.lastName) {
      const current = await this.get(id);
      $set.sortKey = patientSortKey(input.firstName ?? current.firstName, input.lastName ?? current.lastName);
    }
    if (input.allergies === null) {
      delete $unset.allergies;
      $set.allergies = [];
    }
    const doc = await this.models.Patient.findByIdAndUpdate(
      id,
      { ...(Object.keys($set).length ? { $set } : {}), ...(Object.keys($unset).length ? { $unset } : {}) },
      { returnDocument: 'after', runValidators: true },
    ).lean<PatientDoc>();
    if (!doc) throw notFound('Patient', id);
    return doc;
  }

  async addHistory(patientId: string, input: MedicalHistoryInput): Promise<PatientDoc> {
    assertPastDate(input.diagnosedOn, 'diagnosedOn', this.clinicZone);
    const entry = { _id: new Types.ObjectId(), ...input, recordedAt: new Date() };
    return this.push(patientId, { medicalHistory: entry });
  }

  async addLabResult(patientId: string, input: LabResultInput): Promise<PatientDoc> {
    assertPastInstant(input.takenAt, 'takenAt');
    if (!Number.isFinite(input.value)) throw badInput('value must be a finite number', 'value');
    const range = input.referenceRange;
    if (range && range.low != null && range.high != null && range.low > range.high) {
      throw badInput('referenceRange.low must not be above referenceRange.high', 'referenceRange');
    }
    const entry = { _id: new Types.ObjectId(), ...input };
    return this.push(patientId, { labResults: entry });
  }

  /** Erases the record. Idempotent for the caller: a second erase answers NOT_FOUND. */
  async erase(id: string): Promise<string> {
    const res = await this.models.Patient.deleteOne({ _id: id });
    if (res.deletedCount !== 1) throw notFound('Patient', id);
    await this.erased(id);
    return id;
  }

  private async push(patientId: string, $push: Record<string, unknown>): Promise<PatientDoc> {
    const doc = await this.models.Patient.findByIdAndUpdate(patientId, { $push }, { returnDocument: 'after', runValidators: true }).lean<PatientDoc>();
    if (!doc) throw notFound('Patient', patientId);
    return doc;
  }

  private validateDemographics(input: Partial<RegisterPatientInput> | UpdatePatientInput): void {
    assertPastDate(input.dateOfBirth, 'dateOfBirth', this.clinicZone);
    assertPhone(input.phone, 'phone');
    assertPhone(input.emergencyContact?.phone, 'emergencyContact.phone');
  }
}
