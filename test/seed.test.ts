import type { Config } from '../platform/config';
import { seedDemoData } from '../scripts/seed';
import { DEMO_DOCTORS, DEMO_PATIENTS, DEMO_USERS } from '../scripts/seed-data';
import { dropTestDatabases, testConfig } from './helpers';

describe('demo data', () => {
  let cfg: Config;
  beforeAll(() => {
    cfg = testConfig();
  });
  afterAll(() => dropTestDatabases(cfg, ['accounts', 'patients', 'doctors', 'appointments', 'medications']));

  it('seeds doctors, patients, users and a fortnight of appointments once, and nothing the second time', async () => {
    const first = await seedDemoData(cfg);
    expect(first).toMatchObject({ doctors: DEMO_DOCTORS.length, patients: DEMO_PATIENTS.length, users: DEMO_USERS.length });
    expect(first.appointments).toBeGreaterThan(20);
    const second = await seedDemoData(cfg);
    expect(first.medications).toBe(10);
    expect(second).toEqual({ doctors: 0, patients: 0, users: 0, appointments: 0, medications: 0 });
  });
});

describe('demo users', () => {
  it('are created only with a DEMO_PASSWORD; ones seeded with the published demo password get it, or are deactivated without one', async () => {
    const { default: bcrypt } = await import('bcryptjs');
    const { createAccountModels } = await import('../subgraphs/accounts/model');
    const { openDb } = await import('./helpers');
    const noDemo = testConfig({ DEMO_PASSWORD: '' });
    try {
      expect((await seedDemoData(noDemo)).users).toBe(0);
      // An installation seeded before: the demo users still have the password once published here.
      const conn = await openDb(noDemo, 'accounts');
      const { User } = await createAccountModels(conn);
      const published = await bcrypt.hash('HealthSync-demo-1', 4);
      await User.insertMany(DEMO_USERS.map(({ _id, ...u }) => ({ _id, ...u, passwordHash: published, active: true })));
      await seedDemoData(noDemo);
      expect(await User.countDocuments({ active: true })).toBe(0);

      await User.updateMany({}, { $set: { active: true } });
      const withDemo = { ...noDemo, DEMO_PASSWORD: process.env.DEMO_PASSWORD! };
      await seedDemoData(withDemo);
      const nurse = await User.findOne({ email: 'nurse@healthsync.local' }).lean();
      expect(nurse?.active).toBe(true);
      expect(await bcrypt.compare(withDemo.DEMO_PASSWORD, nurse!.passwordHash)).toBe(true);
      expect(await bcrypt.compare('HealthSync-demo-1', nurse!.passwordHash)).toBe(false);
      await conn.close();
    } finally {
      await dropTestDatabases(noDemo, ['accounts', 'patients', 'doctors', 'appointments', 'medications']);
    }
  });
});
