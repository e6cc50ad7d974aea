import path from 'node:path';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { dbName } from '../../platform/config';
import { startAgenda, stopAgenda } from '../../platform/jobs';
import { EVENTS_DB, Publisher } from '../../platform/pubsub';
import { ServiceClient } from '../../platform/serviceClient';
import { runSubgraphMain, type SubgraphDefinition } from '../../platform/subgraph';
import { access } from './access';
import { LogChannel } from './channels';
import { Directory } from './directory';
import { deliveryLeaseMs, NotificationJobs, reminderLeaseMs } from './jobs';
import { MedicationReminders } from './medicationReminders';
import { appointmentNotices } from './notices';
import { createNotificationModels } from './model';
import { createReminderStore } from './reminders';
import { resolvers } from './resolvers';
import { Sender } from './sender';
import { NotificationService, type Context } from './service';

export const notificationsSubgraph: SubgraphDefinition<Context> = {
  name: 'notifications',
  schemaPath: path.join(__dirname, 'schema.graphql'),
  resolvers: resolvers as GraphQLResolverMap<Context>,
  access,
  async setup(conn, log, cfg, onStop) {
    const models = await createNotificationModels(conn);
    const live = await Publisher.open(conn, dbName(cfg, EVENTS_DB));
    const channel = new LogChannel(log, { showBody: cfg.NODE_ENV === 'development' });
    const senderOptions = { claimMs: deliveryLeaseMs(cfg), maxAttempts: cfg.NOTIFY_MAX_ATTEMPTS, pauseBeforeSendMs: cfg.NOTIFICATIONS_FAULT_PAUSE_BEFORE_SEND_MS };
    const sender = new Sender(models.Notification, channel, live, log, senderOptions);
    const reminderSender = new Sender(models.Notification, channel, live, log, { ...senderOptions, claimMs: reminderLeaseMs(cfg) });
    const directory = new Directory(conn, cfg, new ServiceClient(cfg, 'notifications'));
    const medicationReminders = new MedicationReminders(conn, cfg, directory, sender);
    const reminders = await createReminderStore(conn);
    let jobs: NotificationJobs | undefined;
    const agenda = await startAgenda(
      cfg,
      'notifications',
      log,
      (a) => {
        jobs = new NotificationJobs(a, directory, sender, cfg, log, medicationReminders, reminders, reminderSender);
        return jobs.define();
      },
      { purgeFinished: true },
    );
    onStop(() => stopAgenda(agenda));
    // Confirmations and other appointment notices, in batches; the short claims of the reminders.
    const notices = appointmentNotices(conn, cfg, jobs!, reminderSender, log);
    notices.start();
    onStop(() => notices.stop());
    const service = new NotificationService(models);
    return (base) => ({ ...base, notifications: service, loaders: service.loaders() });
  },
};

if (require.main === module) runSubgraphMain(notificationsSubgraph);
