import { DateTime } from 'luxon';
import { dbName } from '../platform/config';
import { EVENTS_DB, Publisher } from '../platform/pubsub';
import { ServiceClient } from '../platform/serviceClient';
import { accountsSubgraph } from '../subgraphs/accounts/index';
import { doctorsSubgraph } from '../subgraphs/doctors/index';
import { medicationsSubgraph } from '../subgraphs/medications/index';
import { LogChannel } from '../subgraphs/notifications/channels';
import { Directory } from '../subgraphs/notifications/directory';
import { MedicationReminders, doseTimes, dosesPerDay } from '../subgraphs/notifications/medicationReminders';
import type { NotificationDoc } from '../subgraphs/notifications/model';
import { notificationsSubgraph } from '../subgraphs/notifications/index';
import { Sender } from '../subgraphs/notifications/sender';
import { patientsSubgraph } from '../subgraphs/patients/index';
import { silentLog, startTestGraph, type TestGraph, waitFor } from './helpers';

/** Low-stock alerts (once per crossing) and medication reminders (once per dose), end to end. */
let graph: TestGraph;
let admin: string;
const gql: TestGraph['gql'] = (q, v) => graph.as(admin, q, v);
const notifications = () => graph.subgraphs.notifications!.conn.model<NotificationDoc>('Notification');

let patientId: string;
let doctorId: string;
beforeAll(async () => {
  graph = await startTestGraph([accountsSubgraph, patientsSubgraph, doctorsSubgraph, medicationsSubgraph, notificationsSubgraph]);
  admin = await graph.login(graph.cfg.SUPERADMIN_EMAIL, graph.cfg.SUPERADMIN_PASSWORD);
  patientId = (await gql<{ registerPatient: { id: string } }>(`mutation { registerPatient(input: { firstName: "Greta", lastName: "Pills", dateOfBirth: "1950-02-02", sex: FEMALE, phone: "+4915112349999", timeZone: "America/New_York" }) { id } }`)).data!.registerPatient.id;
  doctorId = (await gql<{ createDoctor: { id: string } }>(`mutation { createDoctor(input: { firstName: "Otto", lastName: "Rx", specialty: "General Practice", timeZone: "Europe/Berlin" }) { id } }`)).data!.createDoctor.id;
});
afterAll(() => graph.stop());

describe('low-stock alerts', () => {
  it('alerts every pharmacist and admin once when a dispense takes stock below the reorder level, not on the next dispense', async () => {
    const users: Record<string, string> = {};
    for (const role of ['PHARMACIST', 'ADMIN', 'NURSE']) {
      const res = await gql<{ createUser: { id: string } }>(`mutation { createUser(input: { email: "${role.toLowerCase()}@alerts.example", password: "alerts-password-1", role: ${role} }) { id } }`);
      users[role] = res.data!.createUser.id;
    }
    const med = (await gql<{ addMedication: { id: string } }>(`mutation { addMedication(input: { name: "Salbutamol", form: INHALER, strength: "100 µg", code: "R03AC02", unit: "inhaler", stockOnHand: 6, reorderLevel: 5 }) { id } }`)).data!.addMedication.id;
    const rx = (await gql<{ prescribe: { id: string } }>(`mutation P($i: PrescribeInput!) { prescribe(input: $i) { id } }`, {
      i: { patientId, doctorId, medicationId: med, dosage: '2 puffs', frequency: 'as needed', startDate: '2026-01-01', refillsAllowed: 5 },
    })).data!.prescribe.id;

    expect((await gql(`mutation { dispense(prescriptionId: "${rx}", quantity: 2) { id } }`)).errors).toBeUndefined(); // 6 → 4: crosses
    const alerts = await waitFor(async () => {
      const found = await notifications().find({ kind: 'LOW_STOCK_ALERT', medicationId: med }).lean();
      return found.length >= 2 && found;
    });
    expect(alerts.map((a) => a.userId).sort()).toEqual([users.PHARMACIST, users.ADMIN].sort());
    expect(alerts.every((a) => a.channel === 'IN_APP' && a.message.startsWith('Low stock: Salbutamol 100 µg is down to 4 (reorder level 5)'))).toBe(true);

    expect((await gql(`mutation { dispense(prescriptionId: "${rx}", quantity: 1) { id } }`)).errors).toBeUndefined(); // 4 → 3: no new crossing
    await new Promise((r) => setTimeout(r, 2500)); // two relay sweeps
    expect(await notifications().countDocuments({ kind: 'LOW_STOCK_ALERT', medicationId: med })).toBe(2);

    const pharmacist = await graph.login('pharmacist@alerts.example', 'alerts-password-1');
    const mine = await graph.as<{ notifications: { edges: { node: { kind: string } }[] } }>(pharmacist, `{ notifications { edges { node { kind } } } }`);
    expect(mine.data!.notifications.edges.map((e) => e.node.kind)).toEqual(['LOW_STOCK_ALERT']);
  });
});

describe('medication reminders', () => {
  it('reads doses per day from the frequency and spreads them over the day', () => {
    expect(dosesPerDay('once daily')).toBe(1);
    expect(dosesPerDay('Twice a day')).toBe(2);
    expect(dosesPerDay('three times daily')).toBe(3);
    expect(dosesPerDay('every 6 hours')).toBe(4);
    expect(doseTimes(3)).toEqual(['08:00', '14:00', '20:00']);
  });

  it('sends each due dose once, in the patient zone, however often the sweep runs', async () => {
    const med = (await gql<{ addMedication: { id: string } }>(`mutation { addMedication(input: { name: "Metformin", form: TABLET, strength: "850 mg", code: "A10BA02", unit: "tablet", stockOnHand: 90, reorderLevel: 30 }) { id } }`)).data!.addMedication.id;
    const rx = (await gql<{ prescribe: { id: string } }>(`mutation P($i: PrescribeInput!) { prescribe(input: $i) { id } }`, {
      i: { patientId, doctorId, medicationId: med, dosage: '1 tablet with a meal', frequency: 'twice daily', startDate: '2026-01-01' },
    })).data!.prescribe.id;

    const conn = graph.subgraphs.notifications!.conn;
    const sender = new Sender(notifications(), new LogChannel(silentLog), await Publisher.open(conn, dbName(graph.cfg, EVENTS_DB)), silentLog, { claimMs: 5000, maxAttempts: 3 });
    const reminders = new MedicationReminders(conn, graph.cfg, new Directory(conn, graph.cfg, new ServiceClient(graph.cfg, 'notifications')), sender);
    // 08:10 in New York today: the 08:00 dose is due, the 20:00 one is not.
    const at = DateTime.now().setZone('America/New_York').set({ hour: 8, minute: 10 }).toJSDate();
    expect(await reminders.sweep(at)).toBeGreaterThanOrEqual(1);
    await reminders.sweep(at);
    await reminders.sweep(new Date(at.getTime() + 5 * 60_000));
    const sent = await notifications().find({ kind: 'MEDICATION_REMINDER', prescriptionId: rx }).lean();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ status: 'SENT', channel: 'SMS', to: '+4915112349999' });
    expect(sent[0].message).toBe('Hello Greta, it is time for your Metformin 850 mg: 1 tablet with a meal. HealthSync Clinic');
  });
});
