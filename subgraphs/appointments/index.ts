import path from 'node:path';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { Claims, claimsModel } from '../../platform/claim';
import { dbName } from '../../platform/config';
import { EntityCache } from '../../platform/entityCache';
import { EVENTS_DB, Publisher, Subscriber, TOPICS } from '../../platform/pubsub';
import { ServiceClient } from '../../platform/serviceClient';
import { runSubgraphMain, type SubgraphDefinition } from '../../platform/subgraph';
import { access } from './access';
import { Directory } from './directory';
import { startAgenda, stopAgenda } from '../../platform/jobs';
import { allOf, OutboxRelay, type EventHandler } from '../../platform/outboxRelay';
import { Queue } from '../../platform/queue';
import { ANALYTICS_APPOINTMENT_CHANGES, appointmentChange, NOTIFY_APPOINTMENT_EVENTS, type AppointmentChange, type AppointmentNotice } from '../../platform/jobNames';
import { APPOINTMENT_IMPORTED, appointmentClaimKey, createAppointmentModels, observationOf, type AppointmentDoc } from './model';
import { resolvers } from './resolvers';
import { doctorDaysLoader, type Context } from './doctorDays';
import { AppointmentService } from './service';

/** How often the directory's caches read the stream when no request made them (each request catches up first). */
const DIRECTORY_POLL_MS = 1_000;
/** The longest a doctor's or patient's answer is kept, also if its change was never announced. */
const DIRECTORY_TTL_MS = 60_000;

export const appointmentsSubgraph: SubgraphDefinition<Context> = {
  name: 'appointments',
  schemaPath: path.join(__dirname, 'schema.graphql'),
  resolvers: resolvers as GraphQLResolverMap<Context>,
  access,
  async setup(conn, log, cfg, onStop) {
    // What doctors and patients answered, kept until they announce a change on the live stream.
    const changes = await Subscriber.open(conn, dbName(cfg, EVENTS_DB), log, { pollMs: DIRECTORY_POLL_MS });
    onStop(() => changes.close());
    const directory = new Directory(new ServiceClient(cfg, 'appointments'), {
      doctors: new EntityCache(changes, TOPICS.doctorChanged, DIRECTORY_TTL_MS),
      patients: new EntityCache(changes, TOPICS.patientChanged, DIRECTORY_TTL_MS),
    });
    const live = await Publisher.open(conn, dbName(cfg, EVENTS_DB));
    const models = await createAppointmentModels(conn);
    const claims = new Claims(claimsModel(conn, 'claims'));
    const agenda = await startAgenda(cfg, 'appointments', log, () => undefined);
    onStop(() => stopAgenda(agenda));
    // Confirmations, reschedule and cancellation notices: a queue notifications drains in batches.
    const noticeQueue = Queue.open<AppointmentNotice>(conn, cfg, NOTIFY_APPOINTMENT_EVENTS);
    const toNotifications: EventHandler<AppointmentDoc> = (e, doc) =>
      noticeQueue.push({
        _id: String(e._id),
        type: e.type as AppointmentNotice['type'],
        appointmentId: String(doc._id),
        ...(typeof e.data.doctorName === 'string' ? { doctorName: e.data.doctorName, specialty: String(e.data.specialty) } : {}),
        queuedAt: new Date(),
      });
    // Every change is counted by analytics: its queue keeps the changes while analytics is down.
    const analyticsQueue = Queue.open<AppointmentChange>(conn, cfg, ANALYTICS_APPOINTMENT_CHANGES);
    const toAnalytics: EventHandler<AppointmentDoc> = (_e, doc) => analyticsQueue.push(appointmentChange(observationOf(doc)));
    const announced = allOf(toNotifications, toAnalytics);
    const relay = new OutboxRelay<AppointmentDoc>(
      models.Appointment,
      {
        APPOINTMENT_BOOKED: announced,
        APPOINTMENT_RESCHEDULED: announced,
        APPOINTMENT_CANCELLED: announced,
        APPOINTMENT_COMPLETED: toAnalytics,
        APPOINTMENT_NO_SHOW: toAnalytics,
        [APPOINTMENT_IMPORTED]: toAnalytics,
        CARE_RELATION: (e) => directory.recordCareRelation(String(e.data.patientId), String(e.data.doctorId), `relay-${String(e._id)}`),
      },
      log,
      // The same claim every change of an appointment takes (service.ts).
      (id, work) => claims.withClaim(appointmentClaimKey(id), { leaseMs: 10_000, waitMs: 2_000, busy: () => new Error('appointment busy') }, work),
      // The doctor's access to the patient does not wait for the notices, nor they for it.
      new Set(['CARE_RELATION']),
    );
    await relay.schedule(agenda, 'appointments.relay-outbox', cfg.OUTBOX_SWEEP_SECONDS);
    const service = new AppointmentService(models, directory, log, live, relay);
    // Idempotency keys older than a day are ignored when read and deleted here (no TTL index on FerretDB).
    const sweepKeys = setInterval(() => void service.keys.sweep().catch((err: Error) => log.warn({ err: err.message }, 'idempotency key sweep failed')), 3_600_000);
    sweepKeys.unref();
    onStop(async () => clearInterval(sweepKeys));
    return (base) => ({ ...base, appointments: service, loaders: service.loaders(), doctorDays: doctorDaysLoader(models.Appointment) });
  },
};

if (require.main === module) runSubgraphMain(appointmentsSubgraph);
