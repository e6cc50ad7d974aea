import type { Subscriber } from './pubsub';

/**
 * What a service learned from another service about one entity (a doctor's schedule for booking
 * checks, that a patient exists), kept in this process and dropped when the owning service
 * announces a change of that entity on the live stream (`{id}` events of one topic; the owner
 * publishes before its mutation answers). Before a cached answer is used the stream is read up to
 * its end (`Subscriber.catchUp`, one `_id` lookup shared by concurrent callers), so a request
 * sees every change announced before it began, as if it had asked the owner. `ttlMs` bounds an
 * answer whose change was never announced (a publish that failed); a gap in the stream, or a
 * stream that cannot be read, means asking the owner.
 *
 * A load that overlaps a change of its entity is not kept: its answer may predate the change,
 * and the change's event may have been handled before the answer arrived.
 *
 * Keys need not be ids: with `dropAllOnChange` any event of the topic drops every entry (answers
 * that depend on many entities of the owner, e.g. the router's kept doctors' answers by query).
 */
export interface EntityCacheOptions<T> {
  maxEntries?: number;
  /** Every entry goes on any event of the topic, not only the entry of the event's `id`. */
  dropAllOnChange?: boolean;
  /** Whether a loaded value may be kept (e.g. not an answer with errors); all by default. */
  keep?: (value: T) => boolean;
}

export class EntityCache<T> {
  private readonly entries = new Map<string, { value: T; at: number }>();
  /** Loads in flight per id; a change marks them stale. */
  private readonly loading = new Map<string, Set<{ stale: boolean }>>();

  private readonly maxEntries: number;
  private readonly keep: (value: T) => boolean;

  constructor(
    private readonly events: Subscriber,
    topic: string,
    private readonly ttlMs: number,
    opts: EntityCacheOptions<T> = {},
  ) {
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.keep = opts.keep ?? (() => true);
    events.on(topic, (event) => {
      if (opts.dropAllOnChange) return this.dropAll();
      const id = String(event.data.id);
      this.entries.delete(id);
      for (const load of this.loading.get(id) ?? []) load.stale = true;
    });
    events.onGap(() => this.dropAll());
  }

  private dropAll(): void {
    this.entries.clear();
    for (const loads of this.loading.values()) for (const load of loads) load.stale = true;
  }

  /**
   * The entry of `id`, or `load()`'s answer. `since` (`performance.now()` of when the request
   * began): the changes that count are those announced before it, not before this call.
   */
  async get(id: string, load: () => Promise<T>, since?: number): Promise<T> {
    try {
      await this.events.catchUp(since);
    } catch {
      return load();
    }
    const hit = this.entries.get(id);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.value;
    const mine = { stale: false };
    const loads = this.loading.get(id) ?? new Set<{ stale: boolean }>();
    loads.add(mine);
    this.loading.set(id, loads);
    try {
      const value = await load();
      if (!mine.stale && this.keep(value)) this.remember(id, value);
      return value;
    } finally {
      loads.delete(mine);
      if (loads.size === 0) this.loading.delete(id);
    }
  }

  private remember(id: string, value: T): void {
    this.entries.delete(id);
    if (this.entries.size >= this.maxEntries) {
      // Maps iterate in insertion order: the first key is the entry kept longest.
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(id, { value, at: Date.now() });
  }
}
