import type { Connection } from 'mongoose';
import { Claims, claimsModel } from '../../platform/claim';
import type { Config } from '../../platform/config';
import { NOTIFY_APPOINTMENT_EVENTS, type AppointmentNotice } from '../../platform/jobNames';
import type { Logger } from '../../platform/logger';
import { Queue } from '../../platform/queue';
import { QueueDrain } from '../../platform/queueDrain';
import { DELIVERY_JOBS_AT_A_TIME, isFinalAnswer, MAX_JOB_ATTEMPTS, reminderLeaseMs, type NotificationJobs } from './jobs';
import { RetryLater, type Sender } from './sender';

/** Notices read at a time from the queue. */
const NOTICES_AT_A_TIME = 100;

const dataOf = (n: AppointmentNotice) => ({ eventId: n._id, type: n.type, appointmentId: n.appointmentId, doctorName: n.doctorName, specialty: n.specialty });

/**
 * The appointment notices (confirmations, reschedules, cancellations) that appointments queues
 * (platform/jobNames.ts), drained in batches by one worker at a time (platform/queueDrain.ts):
 * each is stored and delivered exactly once per event by `sender` (unique dedupe key + claim),
 * the batch's appointments and patients read together. A worker killed mid-batch leaves the
 * drain to the next one after `reminderLeaseMs` and its claimed messages after the sender's claim.
 */
export function appointmentNotices(conn: Connection, cfg: Config, jobs: NotificationJobs, sender: Sender, log: Logger): QueueDrain<AppointmentNotice> {
  const queue = Queue.open<AppointmentNotice>(conn, cfg, NOTIFY_APPOINTMENT_EVENTS);
  return new QueueDrain(
    queue,
    new Claims(claimsModel(conn, 'claims')),
    {
      handle: (n) => jobs.appointmentEvent(dataOf(n), sender),
      giveUp: (n, reason) => jobs.appointmentEventFailed(dataOf(n), `Not sent: ${reason}`),
      isFinal: (err, attempts) => isFinalAnswer(err) || attempts >= MAX_JOB_ATTEMPTS,
      // Another worker holds the message: no use trying before its claim ends.
      retryAt: (err) => (err instanceof RetryLater ? err.retryAt : undefined),
    },
    log,
    { pollMs: cfg.JOBS_PROCESS_EVERY_MS, leaseMs: reminderLeaseMs(cfg), batch: NOTICES_AT_A_TIME, atATime: DELIVERY_JOBS_AT_A_TIME },
  );
}
