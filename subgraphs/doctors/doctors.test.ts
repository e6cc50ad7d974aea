import type { Connection } from 'mongoose';
import type { Config } from '../../platform/config';
import { dropTestDatabases, openDb, testConfig } from '../../test/helpers';
import { createDoctorModels } from './model';
import { DoctorService } from './service';

let cfg: Config;
let conn: Connection;
let doctors: DoctorService;

beforeAll(async () => {
  cfg = testConfig();
  conn = await openDb(cfg, 'doctors');
  doctors = new DoctorService(await createDoctorModels(conn));
});
afterAll(async () => {
  await conn.close();
  await dropTestDatabases(cfg, ['doctors']);
});

const allWeek = (['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'] as const).map((weekday) => ({
  weekday,
  start: '08:00',
  end: '12:00',
  slotMinutes: 30,
}));

describe('DoctorService on the real database', () => {
  it('creates doctors, filters by specialty ignoring case, and lists specialties of active doctors', async () => {
    const a = await doctors.create({ firstName: 'Ann', lastName: 'Heart', specialty: 'Cardiology', timeZone: 'Europe/Berlin' });
    await doctors.create({ firstName: 'Bob', lastName: 'Skin', specialty: 'Dermatology', timeZone: 'Europe/Berlin' });
    const c = await doctors.create({ firstName: 'Cid', lastName: 'Bones', specialty: 'Orthopedics', timeZone: 'America/Chicago' });
    await doctors.setActive(String(c._id), false);

    const cardio = await doctors.list({ specialty: 'cardiology' });
    expect(cardio.edges.map((e) => String(e.node._id))).toEqual([String(a._id)]);
    expect(await doctors.specialties()).toEqual(['Cardiology', 'Dermatology']);
    expect((await doctors.list({})).edges.map((e) => e.node.lastName)).toEqual(['Heart', 'Skin']);
    expect((await doctors.list({ includeInactive: true })).edges.map((e) => e.node.lastName)).toEqual(['Bones', 'Heart', 'Skin']);
  });

  it('replaces the weekly schedule, normalised, and deactivates', async () => {
    const d = await doctors.create({ firstName: 'Dee', lastName: 'Slots', specialty: 'General Practice', timeZone: 'Asia/Tokyo' });
    const id = String(d._id);
    const withSchedule = await doctors.setSchedule(id, [...allWeek].reverse());
    expect(withSchedule.weeklySchedule.map((w) => w.weekday)).toEqual(allWeek.map((w) => w.weekday));
    expect((await doctors.setActive(id, false)).active).toBe(false);
  });

  it('rejects bad schedules and unknown doctors with coded errors, changing nothing', async () => {
    const d = await doctors.create({ firstName: 'Eve', lastName: 'Strict', specialty: 'Neurology', timeZone: 'UTC', weeklySchedule: allWeek });
    const id = String(d._id);
    await expect(doctors.setSchedule(id, [{ weekday: 'MONDAY', start: '10:00', end: '09:00', slotMinutes: 15 }])).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expect((await doctors.get(id)).weeklySchedule).toHaveLength(7);
    await expect(doctors.get('65d0000000000000000000ff')).rejects.toMatchObject({ extensions: { code: 'NOT_FOUND' } });
    await expect(doctors.update(id, { specialty: null })).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'specialty' } });
  });
});
