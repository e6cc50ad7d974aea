import { Types, type Connection } from 'mongoose';
import { loadConfig, seedDemoWanted, type Config } from '../platform/config';
import { connectDb } from '../platform/db';
import { isDuplicateKey } from '../platform/errors';
import { createLogger, type Logger } from '../platform/logger';
import { createDoctorModels, doctorSortKey } from '../subgraphs/doctors/model';
import { createPatientModels, patientSortKey } from '../subgraphs/patients/model';
import bcrypt from 'bcryptjs';
import { createAccountModels } from '../subgraphs/accounts/model';
import { createAppointmentModels } from '../subgraphs/appointments/model';
import { seedAppointments } from './seed-appointments';
import { seedMedications } from './seed-medications';
import { createMedicationModels } from '../subgraphs/medications/model';
import { DEMO_CARE_RELATIONS, DEMO_DOCTORS, DEMO_PATIENTS, DEMO_USERS } from './seed-data';

/** The demo users' password this repository once published (and seeded) for every installation. */
const FORMER_DEMO_PASSWORD = 'HealthSync-demo-1';

/** 1 when the insert happened, 0 when a record with that id already exists. */
async function insertIfMissing(insert: () => Promise<unknown>): Promise<number> {
  try {
    await insert();
    return 1;
  } catch (err) {
    if (isDuplicateKey(err)) return 0;
    throw err;
  }
}

/**
 * Inserts the demo data that is missing and never overwrites what a user changed, so running it
 * on every start is safe. (Plain inserts by fixed id, not upserts: FerretDB 1.24 drops empty
 * arrays from `$setOnInsert`.)
 */
export async function seedDemoData(
  cfg: Config,
  log: Logger = createLogger('seed', 'warn'),
): Promise<{ doctors: number; patients: number; users: number; appointments: number; medications: number }> {
  const conns: Connection[] = [];
  try {
    const doctorsConn = await connectDb(cfg, 'doctors', log);
    conns.push(doctorsConn);
    const { Doctor } = await createDoctorModels(doctorsConn);
    let doctors = 0;
    for (const { _id, ...d } of DEMO_DOCTORS) {
      doctors += await insertIfMissing(() => Doctor.create({ _id: new Types.ObjectId(_id), ...d, sortKey: doctorSortKey(d.firstName, d.lastName) }));
    }

    const patientsConn = await connectDb(cfg, 'patients', log);
    conns.push(patientsConn);
    const { Patient, CareRelation } = await createPatientModels(patientsConn);
    let patients = 0;
    for (const { _id, medicalHistory, ...p } of DEMO_PATIENTS) {
      const now = new Date();
      patients += await insertIfMissing(() =>
        Patient.create({
          _id: new Types.ObjectId(_id),
          ...p,
          sortKey: patientSortKey(p.firstName, p.lastName),
          medicalHistory: medicalHistory.map((h) => ({ ...h, recordedAt: now })),
        }),
      );
    }
    const appointmentsConn = await connectDb(cfg, 'appointments', log);
    conns.push(appointmentsConn);
    const { Appointment } = await createAppointmentModels(appointmentsConn);
    const seeded = await seedAppointments(Appointment);
    for (const rel of [...DEMO_CARE_RELATIONS, ...seeded.pairs]) {
      await insertIfMissing(() => CareRelation.create({ ...rel, since: new Date() }));
    }

    const accountsConn = await connectDb(cfg, 'accounts', log);
    conns.push(accountsConn);
    const { User, RefreshToken } = await createAccountModels(accountsConn);
    // Demo users only with a password of this installation's own (DEMO_PASSWORD), never a published one.
    const passwordHash = cfg.DEMO_PASSWORD ? await bcrypt.hash(cfg.DEMO_PASSWORD, cfg.BCRYPT_ROUNDS) : null;
    let users = 0;
    for (const { _id, ...u } of DEMO_USERS) {
      if (passwordHash) users += await insertIfMissing(() => User.create({ _id: new Types.ObjectId(_id), ...u, passwordHash, active: true }));
    }
    // Demo users seeded earlier with the published password get DEMO_PASSWORD, or are deactivated without one.
    const existing = await User.find({ _id: { $in: DEMO_USERS.map((u) => new Types.ObjectId(u._id)) }, active: true }, { email: 1, passwordHash: 1 }).lean();
    for (const user of existing) {
      if (!(await bcrypt.compare(FORMER_DEMO_PASSWORD, user.passwordHash))) continue;
      await User.updateOne({ _id: user._id }, { $set: passwordHash ? { passwordHash } : { active: false } });
      await RefreshToken.updateMany({ userId: user._id, revokedAt: null }, { $set: { revokedAt: new Date() } });
      log.warn({ email: user.email }, passwordHash ? 'demo user had the published demo password: it is DEMO_PASSWORD now' : 'demo user had the published demo password and no DEMO_PASSWORD is set: deactivated');
    }
    const medicationsConn = await connectDb(cfg, 'medications', log);
    conns.push(medicationsConn);
    const medications = await seedMedications(await createMedicationModels(medicationsConn), cfg, log);
    return { doctors, patients, users, appointments: seeded.created, medications };
  } finally {
    await Promise.all(conns.map((c) => c.close()));
  }
}

if (require.main === module) {
  const uri = process.env.MONGODB_URI;
  if (!uri) {
    console.error('Set MONGODB_URI (npm start seeds automatically).');
    process.exit(1);
  }
  const cfg = loadConfig();
  // Demo data only when asked for: SEED_DEMO=true (or SEED_DEMO unset outside production).
  if (!seedDemoWanted(cfg)) {
    console.log(`demo data not seeded: SEED_DEMO=${cfg.SEED_DEMO ?? 'unset'} (NODE_ENV=${cfg.NODE_ENV}); set SEED_DEMO=true to add it`);
    process.exit(0);
  }
  seedDemoData(cfg).then(
    (n) => console.log(`seeded ${n.doctors} doctors, ${n.patients} patients, ${n.users} users, ${n.appointments} appointments, ${n.medications} medications and prescriptions (existing records left as they were)`),
    (err: unknown) => {
      console.error((err as Error).message);
      process.exit(1);
    },
  );
}
