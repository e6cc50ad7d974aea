import { Types, type Connection } from 'mongoose';
import { loadConfig } from '../platform/config';
import { connectDb } from '../platform/db';
import { isDuplicateKey } from '../platform/errors';
import { createLogger } from '../platform/logger';
import { createDoctorModels, doctorSortKey } from '../subgraphs/doctors/model';
import { createPatientModels, patientSortKey } from '../subgraphs/patients/model';
import bcrypt from 'bcryptjs';
import { createAccountModels } from '../subgraphs/accounts/model';
import { DEMO_CARE_RELATIONS, DEMO_DOCTORS, DEMO_PASSWORD, DEMO_PATIENTS, DEMO_USERS } from './seed-data';

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
export async function seedDemoData(uri: string): Promise<{ doctors: number; patients: number; users: number }> {
  const cfg = loadConfig({ ...process.env, MONGODB_URI: uri });
  const log = createLogger('seed', 'warn');
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
    for (const rel of DEMO_CARE_RELATIONS) {
      await insertIfMissing(() => CareRelation.create({ ...rel, since: new Date() }));
    }

    const accountsConn = await connectDb(cfg, 'accounts', log);
    conns.push(accountsConn);
    const { User } = await createAccountModels(accountsConn);
    const passwordHash = await bcrypt.hash(DEMO_PASSWORD, cfg.BCRYPT_ROUNDS);
    let users = 0;
    for (const { _id, ...u } of DEMO_USERS) {
      users += await insertIfMissing(() => User.create({ _id: new Types.ObjectId(_id), ...u, passwordHash, active: true }));
    }
    return { doctors, patients, users };
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
  seedDemoData(uri).then(
    (n) => console.log(`seeded ${n.doctors} doctors, ${n.patients} patients, ${n.users} users (existing records left as they were)`),
    (err: unknown) => {
      console.error((err as Error).message);
      process.exit(1);
    },
  );
}
