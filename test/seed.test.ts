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
