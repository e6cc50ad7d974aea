import { setAppointmentFields } from '../appointmentFixtures';
import { ALL, NONE, OWN, listed, type AccessEnv, type AccessRows, type Target } from './env';

const WEEK = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];
const schedule = WEEK.map((weekday) => ({ weekday, start: '00:00', end: '23:55', slotMinutes: 5 }));

let foreignDoctor = '';
let free: { start: string; end: string }[] = [];
const fixtures = { own: '', foreign: '' };

async function bookAsAdmin(env: AccessEnv, patientId: string, doctorId: string): Promise<string> {
  const slot = free.shift()!;
  const res = await env.graph.as<{ bookAppointment: { id: string } }>(
    env.tokens.SUPER_ADMIN,
    `mutation B($i: BookAppointmentInput!) { bookAppointment(input: $i) { id } }`,
    { i: { patientId, doctorId, start: slot.start, end: slot.end, reason: 'Access suite' } },
  );
  if (!res.data) throw new Error(JSON.stringify(res.errors));
  return res.data.bookAppointment.id;
}

/** An appointment of the own patient with the DOCTOR user, or of the foreign patient with another doctor. */
const freshAppointment = (env: AccessEnv, past = false) => async (t: Target): Promise<string> => {
  const id = t === 'own' ? await bookAsAdmin(env, env.ids.own, env.ids.doctor) : await bookAsAdmin(env, env.ids.foreign, foreignDoctor);
  if (past) {
    const start = new Date(Date.now() - Math.floor(Math.random() * 1e9) - 3_600_000);
    await setAppointmentFields(env.graph, id, { start, end: new Date(start.getTime() + 300_000), slotKey: `past|${id}` });
  }
  return id;
};

const clinicalRead = { SUPER_ADMIN: ALL, ADMIN: ALL, NURSE: ALL, PHARMACIST: NONE, DOCTOR: OWN, PATIENT: OWN };
const changeOwn = { SUPER_ADMIN: ALL, ADMIN: ALL, NURSE: NONE, PHARMACIST: NONE, DOCTOR: OWN, PATIENT: OWN };
const doctorOnly = { SUPER_ADMIN: ALL, ADMIN: ALL, NURSE: NONE, PHARMACIST: NONE, DOCTOR: OWN, PATIENT: NONE };

export const appointmentRows: AccessRows = {
  notPatientData: ['appointments.availableSlots'],
  async setup(env) {
    const { graph, tokens } = env;
    await graph.as(tokens.SUPER_ADMIN, `mutation S($d: ObjectID!, $s: [ScheduleWindowInput!]!) { setWeeklySchedule(doctorId: $d, schedule: $s) { id } }`, { d: env.ids.doctor, s: schedule });
    const other = await graph.as<{ createDoctor: { id: string } }>(tokens.SUPER_ADMIN, `mutation D($i: CreateDoctorInput!) { createDoctor(input: $i) { id } }`, {
      i: { firstName: 'Other', lastName: 'Doctor', specialty: 'Dermatology', timeZone: 'Europe/Berlin', weeklySchedule: schedule },
    });
    foreignDoctor = other.data!.createDoctor.id;
    const res = await graph.as<{ availableSlots: { start: string; end: string }[] }>(
      tokens.SUPER_ADMIN,
      `query S($d: ObjectID!, $f: DateTime!, $t: DateTime!) { availableSlots(doctorId: $d, from: $f, to: $t) { start end } }`,
      { d: env.ids.doctor, f: new Date(Date.now() + 3_600_000).toISOString(), t: new Date(Date.now() + 2 * 86_400_000).toISOString() },
    );
    free = res.data!.availableSlots;
    fixtures.own = await bookAsAdmin(env, env.ids.own, env.ids.doctor);
    fixtures.foreign = await bookAsAdmin(env, env.ids.foreign, foreignDoctor);
  },
  ops: (env) => {
    const { graph } = env;
    const existing = async (t: Target) => fixtures[t];
    const bookTarget = async (t: Target) => (t === 'own' ? env.ids.own : env.ids.foreign);
    return {
      'appointment(id)': {
        field: 'appointments.appointment',
        target: existing,
        run: (tk, id) => graph.as(tk, `{ appointment(id: "${id}") { id reason start } }`),
        expect: clinicalRead,
      },
      'appointment(id) → patient record': {
        field: 'appointments.appointment',
        target: existing,
        run: (tk, id) => graph.as(tk, `{ appointment(id: "${id}") { patient { name allergies } } }`),
        expect: clinicalRead,
      },
      'appointments list': {
        field: 'appointments.appointments',
        target: existing,
        run: (tk) => graph.as(tk, `{ appointments(first: 100) { edges { node { id } } } }`),
        outcome: listed,
        expect: clinicalRead,
      },
      'appointments filtered by patient': {
        field: 'appointments.appointments',
        target: existing,
        run: (tk) => graph.as(tk, `{ appointments(first: 100, filter: { patientId: "${env.ids.foreign}" }) { edges { node { id } } } }`),
        outcome: (res) => listed(res, fixtures.foreign),
        expect: { ...clinicalRead, DOCTOR: NONE, PATIENT: NONE },
      },
      'patient(id) → appointments (nested)': {
        field: 'appointments.appointments',
        target: existing,
        run: (tk, id) => graph.as(tk, `{ patient(id: "${id === fixtures.own ? env.ids.own : env.ids.foreign}") { appointments { edges { node { id } } } } }`),
        outcome: (res, id) => (res.errors?.[0]?.extensions?.code === 'FORBIDDEN' ? 'denied' : listed(res, id)),
        // A pharmacist may read the patient but none of the visits.
        expect: clinicalRead,
      },
      bookAppointment: {
        field: 'appointments.bookAppointment',
        target: bookTarget,
        run: (tk, patientId) => {
          const slot = free.shift()!;
          // The DOCTOR user books with themselves; everyone else books the foreign patient with the
          // other doctor, so no row makes the DOCTOR user a treating doctor of the foreign patient.
          const doctorId = tk === env.tokens.DOCTOR || patientId === env.ids.own ? env.ids.doctor : foreignDoctor;
          return graph.as(tk, `mutation B($i: BookAppointmentInput!) { bookAppointment(input: $i) { id } }`, {
            i: { patientId, doctorId, start: slot.start, end: slot.end, reason: 'Suite' },
          });
        },
        expect: changeOwn,
      },
      rescheduleAppointment: {
        field: 'appointments.rescheduleAppointment',
        target: freshAppointment(env),
        run: (tk, id) => {
          const slot = free.shift()!;
          return graph.as(tk, `mutation { rescheduleAppointment(id: "${id}", start: "${slot.start}", end: "${slot.end}") { id } }`);
        },
        expect: changeOwn,
      },
      cancelAppointment: {
        field: 'appointments.cancelAppointment',
        target: freshAppointment(env),
        run: (tk, id) => graph.as(tk, `mutation { cancelAppointment(id: "${id}", reason: "Suite") { id } }`),
        expect: changeOwn,
      },
      completeAppointment: {
        field: 'appointments.completeAppointment',
        target: freshAppointment(env, true),
        run: (tk, id) => graph.as(tk, `mutation { completeAppointment(id: "${id}", conditions: ["Suite"]) { id } }`),
        expect: doctorOnly,
      },
      markNoShow: {
        field: 'appointments.markNoShow',
        target: freshAppointment(env, true),
        run: (tk, id) => graph.as(tk, `mutation { markNoShow(id: "${id}") { id } }`),
        expect: doctorOnly,
      },
    };
  },
};
