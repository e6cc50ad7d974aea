import { DateTime } from 'luxon';
import { Types } from 'mongoose';
import { periodStart } from '../subgraphs/analytics/reports';
import { analyticsSubgraph } from '../subgraphs/analytics/index';
import type { AppointmentDoc, AppointmentStatus } from '../subgraphs/appointments/model';
import { accountsSubgraph } from '../subgraphs/accounts/index';
import { appointmentsSubgraph } from '../subgraphs/appointments/index';
import { doctorsSubgraph } from '../subgraphs/doctors/index';
import { patientsSubgraph } from '../subgraphs/patients/index';
import { startTestGraph, type TestGraph } from './helpers';

/**
 * Analytics against a known dataset: each metric is computed again here, independently, from the
 * same fixture rows and compared with what the materialised reports answer through the router.
 */
let graph: TestGraph;
let admin: string;
const gql: TestGraph['gql'] = (q, v) => graph.as(admin, q, v);
const WEEK = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];

interface Fixture {
  doctorId: string;
  specialty: string;
  zone: string;
  patientId: string;
  start: Date;
  status: AppointmentStatus;
  conditions: string[];
}
const fixtures: Fixture[] = [];
const doctors: { id: string; name: string; specialty: string; zone: string }[] = [];
const patients: string[] = [];
const RANGE = { from: '2026-03-02', to: '2026-03-31' };
const CONDITIONS: Record<string, string[]> = { Cardiology: ['Hypertension', 'Arrhythmia', 'Chest pain'], Dermatology: ['Eczema', 'Acne'] };
const STATUSES: AppointmentStatus[] = ['COMPLETED', 'COMPLETED', 'CANCELLED', 'COMPLETED', 'NO_SHOW', 'SCHEDULED'];

const localDate = (f: Fixture) => DateTime.fromJSDate(f.start, { zone: f.zone }).toISODate()!;
const inRange = (f: Fixture) => localDate(f) >= RANGE.from && localDate(f) <= RANGE.to;

beforeAll(async () => {
  graph = await startTestGraph([accountsSubgraph, patientsSubgraph, doctorsSubgraph, appointmentsSubgraph, analyticsSubgraph], { ANALYTICS_REFRESH_SECONDS: '1' });
  admin = await graph.login(graph.cfg.SUPERADMIN_EMAIL, graph.cfg.SUPERADMIN_PASSWORD);
  const specs = [
    { first: 'Ann', specialty: 'Cardiology', zone: 'Europe/Berlin' },
    { first: 'Ben', specialty: 'Cardiology', zone: 'America/New_York' },
    { first: 'Cai', specialty: 'Dermatology', zone: 'Asia/Tokyo' },
  ];
  for (const s of specs) {
    const res = await gql<{ createDoctor: { id: string; name: string } }>(`mutation D($i: CreateDoctorInput!) { createDoctor(input: $i) { id name } }`, {
      i: { firstName: s.first, lastName: 'Stats', specialty: s.specialty, timeZone: s.zone, weeklySchedule: WEEK.map((weekday) => ({ weekday, start: '00:00', end: '23:30', slotMinutes: 30 })) },
    });
    doctors.push({ ...res.data!.createDoctor, specialty: s.specialty, zone: s.zone });
  }
  for (let i = 0; i < 6; i++) {
    const res = await gql<{ registerPatient: { id: string } }>(`mutation P($i: RegisterPatientInput!) { registerPatient(input: $i) { id } }`, {
      i: { firstName: `Pat${i}`, lastName: 'Stats', dateOfBirth: '1980-01-01', sex: 'OTHER' },
    });
    patients.push(res.data!.registerPatient.id);
  }
  // 60 visits from late February into April, some right around local midnight (zones matter).
  for (let n = 0; n < 60; n++) {
    const d = doctors[n % 3];
    const start = new Date(Date.UTC(2026, 1, 27, 22, 30) + n * 17 * 3_600_000);
    // Every doctor gets every status and every condition of their specialty over the fixture.
    const k = Math.floor(n / 3);
    const status = STATUSES[k % STATUSES.length];
    const pool = CONDITIONS[d.specialty];
    const conditions = status === 'COMPLETED' ? [pool[(k * 7) % pool.length], ...(k % 4 === 0 ? [pool[(k * 7 + 1) % pool.length]] : [])] : [];
    fixtures.push({ doctorId: d.id, specialty: d.specialty, zone: d.zone, patientId: patients[(n * 5) % 6 === 0 ? 0 : n % 6], start, status, conditions });
  }
  const model = graph.subgraphs.appointments!.conn.model<AppointmentDoc>('Appointment');
  await model.insertMany(
    fixtures.map((f) => {
      const _id = new Types.ObjectId();
      return {
        _id, patientId: f.patientId, doctorId: f.doctorId, start: f.start, end: new Date(f.start.getTime() + 1_800_000),
        localDate: localDate(f), timeZone: f.zone, reason: 'Fixture', status: f.status, conditions: f.conditions, specialty: f.specialty,
        slotKey: `fixture|${String(_id)}`, outbox: [], outboxSeq: 0, outboxHandled: 0, outboxPending: false,
      };
    }),
  );
  const refreshed = await gql<{ refreshAnalytics: { changes: number } }>(`mutation { refreshAnalytics(fromAppointments: true) { changes rows computedAt durationMs } }`);
  expect(refreshed.errors).toBeUndefined();
}, 60_000);
afterAll(() => graph.stop());

const countBy = <K extends string>(rows: Fixture[], key: (f: Fixture) => K) => rows.reduce((m, f) => m.set(key(f), (m.get(key(f)) ?? 0) + 1), new Map<K, number>());

describe('reports match an independent computation', () => {
  it('A_d: appointments per doctor, with names through federation, and per status', async () => {
    const res = await gql<{ appointmentsPerDoctor: { total: number; computedAt: string; rows: { count: number; specialty: string; doctor: { id: string; name: string } }[] } }>(
      `query A($r: DateRange!) { appointmentsPerDoctor(range: $r) { total computedAt rows { count specialty doctor { id name } } } }`,
      { r: RANGE },
    );
    expect(res.errors).toBeUndefined();
    const expected = countBy(fixtures.filter(inRange), (f) => f.doctorId);
    const got = res.data!.appointmentsPerDoctor;
    expect(new Map(got.rows.map((r) => [r.doctor.id, r.count]))).toEqual(expected);
    expect(got.total).toBe(fixtures.filter(inRange).length);
    expect(got.rows.map((r) => r.doctor.name).sort()).toEqual(doctors.map((d) => d.name).sort());
    expect(got.computedAt).toEqual(expect.any(String));

    const completed = await gql<{ appointmentsPerDoctor: { total: number } }>(`query A($r: DateRange!) { appointmentsPerDoctor(range: $r, status: COMPLETED) { total } }`, { r: RANGE });
    expect(completed.data!.appointmentsPerDoctor.total).toBe(fixtures.filter((f) => inRange(f) && f.status === 'COMPLETED').length);
  });

  it.each(['DAY', 'WEEK', 'MONTH'] as const)('A_t: appointments over time per %s', async (granularity) => {
    const res = await gql<{ appointmentsOverTime: { rows: { period: string; count: number }[]; total: number } }>(
      `query T($r: DateRange!, $g: Granularity) { appointmentsOverTime(range: $r, granularity: $g) { total rows { period count } } }`,
      { r: RANGE, g: granularity },
    );
    const expected = countBy(fixtures.filter(inRange), (f) => periodStart(localDate(f), granularity));
    expect(new Map(res.data!.appointmentsOverTime.rows.map((r) => [r.period, r.count]))).toEqual(expected);
  });

  it('common conditions by specialty, top N', async () => {
    const res = await gql<{ conditionsBySpecialty: { specialties: { specialty: string; top: { condition: string; count: number }[] }[] } }>(
      `query C($r: DateRange!) { conditionsBySpecialty(range: $r, top: 2) { specialties { specialty top { condition count } } } }`,
      { r: RANGE },
    );
    for (const s of res.data!.conditionsBySpecialty.specialties) {
      const counts = new Map<string, number>();
      for (const f of fixtures.filter((x) => inRange(x) && x.status === 'COMPLETED' && x.specialty === s.specialty)) for (const c of f.conditions) counts.set(c, (counts.get(c) ?? 0) + 1);
      const expected = [...counts].map(([condition, count]) => ({ condition, count })).sort((a, b) => b.count - a.count || a.condition.localeCompare(b.condition)).slice(0, 2);
      expect(s.top).toEqual(expected);
    }
    expect(res.data!.conditionsBySpecialty.specialties.map((s) => s.specialty)).toEqual(['Cardiology', 'Dermatology']);
  });

  // Within one month, and across a whole month with partial months on both sides.
  it.each([RANGE, { from: '2026-02-28', to: '2026-04-01' }, { from: '2026-03-10', to: '2026-03-10' }])('Avg_p: total appointments / total patients, both shown (%o)', async (range) => {
    const res = await gql<{ averageAppointmentsPerPatient: { totalAppointments: number; totalPatients: number; average: number } }>(
      `query V($r: DateRange!) { averageAppointmentsPerPatient(range: $r) { totalAppointments totalPatients average } }`,
      { r: range },
    );
    const rows = fixtures.filter((f) => localDate(f) >= range.from && localDate(f) <= range.to);
    const patientsSeen = new Set(rows.map((f) => f.patientId)).size;
    expect(rows.length).toBeGreaterThan(0);
    expect(res.data!.averageAppointmentsPerPatient).toEqual({ totalAppointments: rows.length, totalPatients: patientsSeen, average: rows.length / patientsSeen });
  });

  it('Doctor.appointmentStats through federation', async () => {
    const d = doctors[1];
    const res = await gql<{ doctor: { name: string; appointmentStats: { total: number; byStatus: { status: string; count: number }[] } } }>(
      `query S($id: ObjectID!, $r: DateRange!) { doctor(id: $id) { name appointmentStats(range: $r) { total byStatus { status count } } } }`,
      { id: d.id, r: RANGE },
    );
    const mine = fixtures.filter((f) => inRange(f) && f.doctorId === d.id);
    expect(res.data!.doctor.appointmentStats.total).toBe(mine.length);
    expect(new Map(res.data!.doctor.appointmentStats.byStatus.map((s) => [s.status, s.count]))).toEqual(countBy(mine, (f) => f.status));
  });

  it('CSV exports parse and match the reports', async () => {
    const csv = async (report: string) => (await gql<{ analyticsCsv: string }>(`query X($r: DateRange!) { analyticsCsv(report: ${report}, range: $r) }`, { r: RANGE })).data!.analyticsCsv;
    const parse = (text: string) => text.trimEnd().split('\r\n').map((line) => line.split(','));
    const perDoctor = parse(await csv('APPOINTMENTS_PER_DOCTOR'));
    expect(perDoctor[0]).toEqual(['doctor_id', 'doctor', 'specialty', 'appointments']);
    const expected = countBy(fixtures.filter(inRange), (f) => f.doctorId);
    expect(new Map(perDoctor.slice(1).map((r) => [r[0], Number(r[3])]))).toEqual(expected);
    expect(perDoctor.slice(1).map((r) => r[1]).sort()).toEqual(doctors.map((d) => d.name).sort());
    const avg = parse(await csv('AVERAGE_APPOINTMENTS_PER_PATIENT'));
    expect(Number(avg[1][2])).toBe(fixtures.filter(inRange).length);
    expect(parse(await csv('APPOINTMENTS_OVER_TIME')).slice(1).reduce((s, r) => s + Number(r[1]), 0)).toBe(fixtures.filter(inRange).length);
    expect(parse(await csv('CONDITIONS_BY_SPECIALTY'))[0]).toEqual(['specialty', 'condition', 'count']);
  });

  it("a patient's own visit summary", async () => {
    const p = patients[0];
    await gql(`mutation { createUser(input: { email: "stats.patient@mail.example", password: "stats-password-1", role: PATIENT, patientId: "${p}" }) { id } }`);
    const token = await graph.login('stats.patient@mail.example', 'stats-password-1');
    const res = await graph.as<{ patient: { visitSummary: { totalVisits: number; firstVisit: string } } }>(token, `{ patient(id: "${p}") { visitSummary { totalVisits firstVisit byStatus { status count } } } }`);
    expect(res.errors).toBeUndefined();
    const mine = fixtures.filter((f) => f.patientId === p);
    expect(res.data!.patient.visitSummary.totalVisits).toBe(mine.length);
    expect(res.data!.patient.visitSummary.firstVisit).toBe(mine.filter((f) => f.status === 'COMPLETED').map(localDate).sort()[0]);
    const other = await graph.as(token, `{ patient(id: "${patients[1]}") { visitSummary { totalVisits } } }`);
    expect(other.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('access and freshness', () => {
  it('reports are for admins; a doctor sees only their own figures', async () => {
    await gql(`mutation { createUser(input: { email: "stats.nurse@clinic.example", password: "stats-password-1", role: NURSE }) { id } }`);
    await gql(`mutation { createUser(input: { email: "stats.doctor@clinic.example", password: "stats-password-1", role: DOCTOR, doctorId: "${doctors[0].id}" }) { id } }`);
    const nurse = await graph.login('stats.nurse@clinic.example', 'stats-password-1');
    const doctor = await graph.login('stats.doctor@clinic.example', 'stats-password-1');
    const q = `query A($r: DateRange!) { appointmentsPerDoctor(range: $r) { rows { doctor { id } count } } }`;
    expect((await graph.as(nurse, q, { r: RANGE })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const own = await graph.as<{ appointmentsPerDoctor: { rows: { doctor: { id: string } }[] } }>(doctor, q, { r: RANGE });
    expect(own.data!.appointmentsPerDoctor.rows.map((r) => r.doctor.id)).toEqual([doctors[0].id]);
    expect((await graph.as(doctor, `query T($r: DateRange!) { appointmentsOverTime(range: $r) { total } }`, { r: RANGE })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await graph.as(doctor, `query X($r: DateRange!) { analyticsCsv(report: CONDITIONS_BY_SPECIALTY, range: $r) }`, { r: RANGE })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('rejects an inverted range', async () => {
    const res = await gql(`{ appointmentsOverTime(range: { from: "2026-03-31", to: "2026-03-01" }) { total } }`);
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('the scheduled job picks up new bookings, then moves the count when one is cancelled', async () => {
    const d = doctors[2];
    const slots = await gql<{ availableSlots: { start: string; end: string }[] }>(
      `query S($d: ObjectID!, $f: DateTime!, $t: DateTime!) { availableSlots(doctorId: $d, from: $f, to: $t) { start end } }`,
      { d: d.id, f: new Date(Date.now() + 86_400_000).toISOString(), t: new Date(Date.now() + 2 * 86_400_000).toISOString() },
    );
    const slot = slots.data!.availableSlots[0];
    const day = DateTime.fromISO(slot.start, { zone: d.zone }).toISODate();
    const range = { from: day, to: day };
    const count = async (status: string) =>
      (await gql<{ appointmentsPerDoctor: { total: number } }>(`query A($r: DateRange!, $s: AppointmentStatus) { appointmentsPerDoctor(range: $r, status: $s) { total } }`, { r: range, s: status }))
        .data!.appointmentsPerDoctor.total;
    /** Polls until the scheduled job (every second here) has counted what `expected` says. */
    const settle = async (status: string, expected: number) => {
      const end = Date.now() + 10_000;
      let n = await count(status);
      while (n !== expected && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 200));
        n = await count(status);
      }
      return n;
    };
    const scheduled = await count('SCHEDULED');
    const cancelled = await count('CANCELLED');
    const booked = await gql<{ bookAppointment: { id: string } }>(`mutation B($i: BookAppointmentInput!) { bookAppointment(input: $i) { id } }`, {
      i: { patientId: patients[2], doctorId: d.id, start: slot.start, end: slot.end, reason: 'New' },
    });
    expect(booked.errors).toBeUndefined();
    expect(await settle('SCHEDULED', scheduled + 1)).toBe(scheduled + 1);

    const cancel = await gql(`mutation C($id: ObjectID!) { cancelAppointment(id: $id, reason: "Patient called") { id } }`, { id: booked.data!.bookAppointment.id });
    expect(cancel.errors).toBeUndefined();
    expect(await settle('CANCELLED', cancelled + 1)).toBe(cancelled + 1);
    expect(await count('SCHEDULED')).toBe(scheduled);
  });
});
