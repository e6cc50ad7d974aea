import type { Connection } from 'mongoose';
import { dbName, type Config } from '../../platform/config';
import { EVENTS_DB, Publisher } from '../../platform/pubsub';
import { dropTestDatabases, openDb, silentLog, testConfig } from '../../test/helpers';
import type { DeliveryChannel, OutgoingMessage } from './channels';
import { createNotificationModels, type NotificationModels } from './model';
import { RetryLater, Sender, type NotificationSpec } from './sender';

/** Counts what reaches it; takes a moment per send so concurrent senders overlap; can be told to fail. */
class CountingChannel implements DeliveryChannel {
  readonly sent: OutgoingMessage[] = [];
  failing = false;

  async send(message: OutgoingMessage): Promise<void> {
    await new Promise((r) => setTimeout(r, 20));
    if (this.failing) throw new Error('provider down');
    this.sent.push(message);
  }
}

let cfg: Config;
let conn: Connection;
let models: NotificationModels;
let live: Publisher;
beforeAll(async () => {
  cfg = testConfig();
  conn = await openDb(cfg, 'notifications');
  models = await createNotificationModels(conn);
  live = await Publisher.open(conn, dbName(cfg, EVENTS_DB));
});
afterAll(async () => {
  await conn.close();
  await dropTestDatabases(cfg, ['notifications', EVENTS_DB]);
});

const sender = (channel: DeliveryChannel) => new Sender(models.Notification, channel, live, silentLog, { claimMs: 10_000, maxAttempts: 3 });
const spec = (dedupeKey: string): NotificationSpec => ({
  dedupeKey,
  kind: 'APPOINTMENT_CONFIRMED',
  channel: 'EMAIL',
  patientId: 'p1',
  to: 'p1@mail.example',
  message: 'Your appointment is confirmed',
});

describe('Sender under concurrency', () => {
  it('delivers once when 20 workers send the same notification at the same time', async () => {
    const channel = new CountingChannel();
    // Stored and queued already (as a retried job finds it), so all 20 go straight for the claim.
    await models.Notification.create({ ...spec('race-1'), status: 'QUEUED', attempts: 0, deliveries: 0, claimedUntil: new Date(0) });
    // One Sender per worker, as in separate processes.
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => sender(channel).send(spec('race-1'))));

    expect(channel.sent).toHaveLength(1);
    const records = await models.Notification.find({ dedupeKey: 'race-1' }).lean();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ status: 'SENT', deliveries: 1, attempts: 1 });
    // The others either saw it sent or were told to try again later (the job retries).
    for (const r of results) {
      if (r.status === 'fulfilled') expect(r.value.status).toBe('SENT');
      else expect(r.reason).toBeInstanceOf(RetryLater);
    }
    // The retry finds it sent and sends nothing more.
    expect((await sender(channel).send(spec('race-1'))).status).toBe('SENT');
    expect(channel.sent).toHaveLength(1);
  });

  it('after a failed delivery the next try claims it at once, and the attempt is counted', async () => {
    const channel = new CountingChannel();
    channel.failing = true;
    await expect(sender(channel).send(spec('retry-1'))).rejects.toThrow('Delivery failed: provider down');
    channel.failing = false;
    const sent = await sender(channel).send(spec('retry-1'));
    expect(sent).toMatchObject({ status: 'SENT', attempts: 2, deliveries: 1, failureReason: null });
    expect(channel.sent).toHaveLength(1);
  });
});
