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

export class LogChannel implements DeliveryChannel {
  constructor(private readonly log: Logger) {}

  async send(message: OutgoingMessage): Promise<void> {
    // The one place PHI may be logged: this log line *is* the simulated SMS or email.
    this.log.info({ delivery: 'simulated', ...message }, `simulated ${message.channel} delivery`);
  }
}

/** Why a message cannot go out on a channel (readable; no retry helps). */
export function missingAddress(channel: Channel, to: string | null | undefined): string | null {
  if (channel === 'SMS' && !to) return 'No phone number on file for SMS';
  if (channel === 'EMAIL' && !to) return 'No email address on file';
  return null;
}
