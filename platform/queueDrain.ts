import { randomUUID } from 'node:crypto';
import type { Claims } from './claim';
import { backoffSeconds, eachLimited, gaveUpAfter } from './jobs';
import type { Logger } from './logger';
import type { Queue, QueuedMessage } from './queue';

/** What a drain does with each message, and when it stops trying. */
export interface DrainHandlers<T> {
  /** Handles one message; must be idempotent (after a crash a message is handled again). */
  handle: (message: T) => Promise<void>;
  /** The message is given up (e.g. recorded as failed where a person sees it); then removed. `reason`: "gave up after …". */
  giveUp: (message: T, reason: string) => Promise<void>;
  /** No use trying again (a coded answer of a peer, attempts used up): `giveUp` at once. */
  isFinal: (err: unknown, attempts: number) => boolean;
  /** When to try a failed message again; `backoffSeconds` of the attempts by default. */
  retryAt?: (err: unknown, attempts: number) => Date | undefined;
}

export interface DrainOptions {
  /** How often an idle worker looks at the queue (the worst wait of a message that arrives then). */
  pollMs: number;
  /** The drain's lease: a killed worker's share is taken over this long after its last renewal. */
  leaseMs: number;
  /** Messages read at a time, and handled at a time. */
  batch: number;
  atATime: number;
}

/**
 * Drains a queue (platform/queue.ts) in batches, on one worker at a time: the worker that finds
 * messages waiting takes the drain's claim (platform/claim.ts; `drain:<queue>`), handles the
 * ready messages `atATime` at once, removes the handled ones in one delete, and reads the next
 * batch at once while there are more and the lease allows (70 % of it; then the claim is given
 * back and taken anew). Messages that failed stay, with their attempts and the time to retry.
 *
 * Versus an Agenda job per message: no job document, lock and finish write per message in the
 * jobs database that every worker polls, and the batch's reads are shared by its messages.
 * After a crash the next worker takes the claim once its lease is over and handles the killed
 * worker's messages again (handlers are idempotent); nothing is removed before it was handled.
 */
export class QueueDrain<T extends QueuedMessage> {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly queue: Queue<T>,
    private readonly claims: Claims,
    private readonly handlers: DrainHandlers<T>,
    private readonly log: Logger,
    private readonly opts: DrainOptions,
  ) {}

  start(): void {
    this.schedule(0);
  }

  /** Stops looking and waits for a pass under way (its claim is given back). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pass()
        .catch((err: Error) => {
          this.log.warn({ queue: this.queue.name, err: err.message }, 'queue drain failed; trying again');
          return false;
        })
        .then((more) => this.schedule(more ? 0 : this.opts.pollMs));
    }, ms);
  }

  /** One turn: true when messages may be waiting still (look again at once). */
  async pass(): Promise<boolean> {
    let ready = await this.queue.ready(this.opts.batch);
    if (!ready.length) return false;
    const key = `drain:${this.queue.name}`;
    const holder = randomUUID();
    if (!(await this.claims.tryClaim(key, holder, this.opts.leaseMs))) return false;
    const deadline = Date.now() + 0.7 * this.opts.leaseMs;
    try {
      // Read again under the claim: the previous holder may have handled them meanwhile.
      ready = await this.queue.ready(this.opts.batch);
      while (ready.length && !this.stopped) {
        const done = await this.handleAll(ready, deadline);
        await this.queue.remove(done);
        if (Date.now() >= deadline || done.length < ready.length) return done.length > 0 || Date.now() >= deadline;
        ready = await this.queue.ready(this.opts.batch);
      }
      return false;
    } finally {
      await this.claims.release(key, holder).catch(() => undefined);
    }
  }

  /** Handles the messages, `atATime` at once, none started after `deadline`; the ids done with. */
  private async handleAll(messages: T[], deadline: number): Promise<string[]> {
    const done: string[] = [];
    await eachLimited(messages, this.opts.atATime, async (m) => {
      if (Date.now() >= deadline || this.stopped) return;
      if (await this.handleOne(m)) done.push(m._id);
    });
    return done;
  }

  private async handleOne(m: T): Promise<boolean> {
    const attempts = (m.attempts ?? 0) + 1;
    try {
      await this.handlers.handle(m);
      return true;
    } catch (err) {
      const message = (err as Error).message;
      if (this.handlers.isFinal(err, attempts)) {
        this.log.error({ queue: this.queue.name, id: m._id, attempts, err: message }, 'queued message gave up');
        try {
          await this.handlers.giveUp(m, gaveUpAfter(attempts, message));
          return true;
        } catch (failErr) {
          this.log.error({ queue: this.queue.name, id: m._id, err: (failErr as Error).message }, 'gave up, failure not recorded; retrying later');
        }
      } else {
        this.log.warn({ queue: this.queue.name, id: m._id, attempts, err: message }, 'queued message will be retried');
      }
      const at = this.handlers.retryAt?.(err, attempts) ?? new Date(Date.now() + backoffSeconds(attempts) * 1000);
      await this.queue.postpone(m._id, attempts, at).catch((e: Error) => this.log.warn({ queue: this.queue.name, id: m._id, err: e.message }, 'retry not recorded'));
      return false;
    }
  }
}
