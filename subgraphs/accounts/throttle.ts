import { createHash } from 'node:crypto';
import type { ClientInfo } from '../../platform/client';
import type { Config } from '../../platform/config';
import { appError, ErrorCode } from '../../platform/errors';
import type { AccountModels } from './model';

const sha256 = (s: string) => createHash('sha256').update(s).digest('base64url');

/** Failures of a counter with no attempt for this long are forgotten. */
const FORGET_MS = 24 * 3_600_000;
/** A device that signed in to an email is known for it this long after its last sign-in (the cookie's life). */
const DEVICE_MEMORY_MS = 400 * 86_400_000;

export type ThrottleConfig = Pick<Config, 'LOGIN_MAX_FAILURES' | 'LOGIN_DELAY_SECONDS' | 'LOGIN_MAX_DELAY_MINUTES' | 'LOGIN_CLIENT_MAX_FAILURES'>;

/** One sign-in attempt that passed the throttle: say how it ended. */
export interface SignInAttempt {
  succeeded(): Promise<void>;
}

interface Counter {
  id: string;
  /** Attempts allowed before delays start. */
  free: number;
}

/**
 * Sign-in throttling that an attacker cannot turn into a lock-out of the real user.
 *
 * Attempts are counted per (email, client) pair, never per email alone. The client is the device
 * when that device signed in to this email successfully before (the router's device cookie,
 * platform/client.ts), else the client's address. After LOGIN_MAX_FAILURES attempts of a pair
 * without a success, each further one waits: LOGIN_DELAY_SECONDS, then twice as long after every
 * attempt (one made while it must wait counts too), up to LOGIN_MAX_DELAY_MINUTES. A success
 * clears the pair. So an attacker guessing from their own clients slows down only themselves,
 * and the user, from a device they signed in with before, still gets in.
 *
 * Attempts from an address without a known device are also counted per address across all
 * emails (LOGIN_CLIENT_MAX_FAILURES, then the same growing delays): one address cannot try many
 * accounts. A success gives back its own attempt there, nothing more.
 *
 * Every attempt is counted before the password is checked, so parallel guesses count too. Waits
 * answer RATE_LIMITED with `retryAfterSeconds`, whether the email exists or not.
 */
export class SignInThrottle {
  constructor(
    private readonly models: Pick<AccountModels, 'LoginThrottle' | 'KnownDevice'>,
    private readonly cfg: ThrottleConfig,
  ) {}

  private delayMs(attempts: number, free: number): number {
    return Math.min(this.cfg.LOGIN_DELAY_SECONDS * 1000 * 2 ** Math.max(0, attempts - free), this.cfg.LOGIN_MAX_DELAY_MINUTES * 60_000);
  }

  /** Counts an attempt of `email` from `client`, or refuses it with RATE_LIMITED while it must wait. */
  async begin(email: string, client: ClientInfo | undefined): Promise<SignInAttempt> {
    const now = Date.now();
    const address = client?.address ?? 'unknown';
    const deviceId = client?.device ? `d:${sha256(`${email}\n${client.device}`)}` : null;
    const known = deviceId ? await this.models.KnownDevice.exists({ _id: deviceId, lastSignInAt: { $gt: new Date(now - DEVICE_MEMORY_MS) } }) : null;
    const pair: Counter = { id: `p:${sha256(`${email}\n${known ? `device ${client!.device}` : `address ${address}`}`)}`, free: this.cfg.LOGIN_MAX_FAILURES };
    const perAddress: Counter | null = known ? null : { id: `a:${sha256(address)}`, free: this.cfg.LOGIN_CLIENT_MAX_FAILURES };
    await this.count(pair, now);
    if (perAddress) await this.count(perAddress, now);
    return {
      succeeded: async () => {
        await this.models.LoginThrottle.deleteOne({ _id: pair.id });
        if (perAddress) await this.giveBack(perAddress);
        if (deviceId) await this.models.KnownDevice.updateOne({ _id: deviceId }, { $set: { lastSignInAt: new Date() } }, { upsert: true });
      },
    };
  }

  private async count(counter: Counter, now: number): Promise<void> {
    const { LoginThrottle } = this.models;
    const before = await LoginThrottle.findOneAndUpdate(
      { _id: counter.id },
      { $inc: { attempts: 1 }, $set: { lastAttemptAt: new Date(now) } },
      { upsert: true, returnDocument: 'before' },
    ).lean();
    let attempts = (before?.attempts ?? 0) + 1;
    let blockedUntil = before?.blockedUntil?.getTime() ?? 0;
    if (before && before.lastAttemptAt.getTime() < now - FORGET_MS) {
      // Nothing for a day (and not swept yet): forgotten, this is a first attempt again.
      attempts = 1;
      blockedUntil = 0;
      await LoginThrottle.updateOne({ _id: counter.id }, { $set: { attempts: 1 }, $unset: { blockedUntil: 1 } });
    }
    if (blockedUntil > now) {
      // Asked again while it must wait: refused, and the wait grows.
      const until = Math.max(blockedUntil, now + this.delayMs(attempts, counter.free));
      await LoginThrottle.updateOne({ _id: counter.id }, { $set: { blockedUntil: new Date(until) } });
      const seconds = Math.ceil((until - now) / 1000);
      throw appError(ErrorCode.RATE_LIMITED, `Too many failed sign-ins; try again in ${seconds} second(s)`, { retryAfterSeconds: seconds });
    }
    // This attempt goes ahead; from the free ones on, the next one waits.
    if (attempts >= counter.free) await LoginThrottle.updateOne({ _id: counter.id }, { $set: { blockedUntil: new Date(now + this.delayMs(attempts, counter.free)) } });
  }

  /**
   * Deletes counters nobody used for a day and devices that did not sign in for the cookie's life
   * (FerretDB has no TTL index): the accounts service runs it every hour.
   */
  async sweep(now = Date.now()): Promise<{ counters: number; devices: number }> {
    const counters = await this.models.LoginThrottle.deleteMany({ lastAttemptAt: { $lt: new Date(now - FORGET_MS) } });
    const devices = await this.models.KnownDevice.deleteMany({ lastSignInAt: { $lt: new Date(now - DEVICE_MEMORY_MS) } });
    return { counters: counters.deletedCount, devices: devices.deletedCount };
  }

  private async giveBack(counter: Counter): Promise<void> {
    const doc = await this.models.LoginThrottle.findOneAndUpdate({ _id: counter.id }, { $inc: { attempts: -1 } }, { returnDocument: 'after' }).lean();
    if (doc && doc.attempts < counter.free) await this.models.LoginThrottle.updateOne({ _id: counter.id }, { $unset: { blockedUntil: 1 } });
  }
}
