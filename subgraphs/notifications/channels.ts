import type { Logger } from '../../platform/logger';
import type { Channel } from './model';

export interface OutgoingMessage {
  notificationId: string;
  channel: Channel;
  to: string | null;
  body: string;
}

/**
 * Where a message goes. The default channels only log ("simulated delivery"); a real SMTP or SMS
 * provider implements the same interface and is chosen by config. `notificationId` is the
 * idempotency key a provider can use to drop a duplicate.
 */
export interface DeliveryChannel {
  send(message: OutgoingMessage): Promise<void>;
}

export interface LogChannelOptions {
  /** Put the message text in the log line: development only (NODE_ENV=development); it holds PHI. */
  showBody: boolean;
}

/**
 * The simulated channel: one log line per delivery, `simulated <CHANNEL> delivery`, with the
 * notification id (the line's `notificationId`: tests and bench/loadSteps.ts count deliveries by
 * it), the channel and the recipient masked (`+49••••••12`, `a••••@example.org`). The message text
 * only in development (`showBody`), never in production or tests.
 */
export class LogChannel implements DeliveryChannel {
  constructor(
    private readonly log: Logger,
    private readonly opts: LogChannelOptions = { showBody: false },
  ) {}

  async send(message: OutgoingMessage): Promise<void> {
    const line = { delivery: 'simulated', notificationId: message.notificationId, channel: message.channel, to: maskRecipient(message.to) };
    this.log.info(this.opts.showBody ? { ...line, body: message.body } : line, `simulated ${message.channel} delivery`);
  }
}

const MASK = '\u2022';

/**
 * A recipient as the delivery log shows it: enough to tell two apart, not enough to contact one.
 * Email: the first character of the local part and the domain (`a••••@example.org`). Phone and
 * anything else: the first three and the last two characters around six bullets (`+49••••••12`),
 * so the length is not told either; short values are bullets only.
 */
export function maskRecipient(to: string | null): string | null {
  if (!to) return to;
  const at = to.lastIndexOf('@');
  if (at > 0) return `${to[0]}${MASK.repeat(4)}${to.slice(at)}`;
  if (to.length < 8) return MASK.repeat(6);
  return `${to.slice(0, 3)}${MASK.repeat(6)}${to.slice(-2)}`;
}

/** Why a message cannot go out on a channel (readable; no retry helps). */
export function missingAddress(channel: Channel, to: string | null | undefined): string | null {
  if (channel === 'SMS' && !to) return 'No phone number on file for SMS';
  if (channel === 'EMAIL' && !to) return 'No email address on file';
  return null;
}
