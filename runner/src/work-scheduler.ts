import { DEFAULT_PRIORITY, MAX_PRIORITY, MIN_PRIORITY } from '@jobline/libs/core';
import { NOTHING_PAUSED, type PauseState } from './pause-state';

/** What the scheduler knows of a job that asks to start. */
export interface WorkTicket {
  tenantId: string;
  type: string;
  /** 1 (lowest) to 9 (highest). */
  priority: number;
}

export interface WorkLimits {
  /** Jobs running at once in this process. */
  concurrency: number;
  /** Lower limits for some job types, by type. */
  typeConcurrency?: Readonly<Record<string, number>>;
  /** Jobs of one tenant running at once, unless the tenant has its own limit. @defaultValue `concurrency` */
  tenantConcurrency?: number;
  /** Limits of some tenants, by tenant id. */
  tenantConcurrencyOverrides?: Readonly<Record<string, number>>;
}

/** Given back once the job is done with its slot. */
export type Release = () => void;

/** Thrown to the tickets still waiting when the scheduler is closed, and to any asked for after. */
export class TicketWithdrawn extends Error {
  constructor() {
    super('withdrawn before it started: the scheduler is closed');
  }
}

interface Waiter {
  ticket: WorkTicket;
  seq: number;
  start: (release: Release) => void;
  withdraw: () => void;
}

/** The waiting tickets of one tenant and job type, one FIFO per priority. */
class Group {
  readonly byPriority: Waiter[][] = Array.from({ length: MAX_PRIORITY + 1 }, () => []);
  readonly heads: number[] = new Array<number>(MAX_PRIORITY + 1).fill(0);
  size = 0;

  constructor(
    readonly tenantId: string,
    readonly type: string,
  ) {}

  /** The first ticket of the highest priority. */
  peek(): Waiter | undefined {
    for (let p = MAX_PRIORITY; p >= MIN_PRIORITY; p--) {
      const queue = this.byPriority[p]!;
      if (this.heads[p]! < queue.length) return queue[this.heads[p]!];
    }
    return undefined;
  }

  /** Every waiting ticket, in no particular order. */
  *all(): Iterable<Waiter> {
    for (let p = MIN_PRIORITY; p <= MAX_PRIORITY; p++) yield* this.byPriority[p]!.slice(this.heads[p]);
  }

  push(waiter: Waiter): void {
    this.byPriority[waiter.ticket.priority]!.push(waiter);
    this.size += 1;
  }

  /** Removes the head of priority `p` (the one `peek` returned). */
  shift(p: number): void {
    const queue = this.byPriority[p]!;
    this.size -= 1;
    this.heads[p]! += 1;
    if (this.heads[p] === queue.length) {
      queue.length = 0;
      this.heads[p] = 0;
    } else if (this.heads[p]! > 1024 && this.heads[p]! * 2 > queue.length) {
      this.byPriority[p] = queue.slice(this.heads[p]);
      this.heads[p] = 0;
    }
  }
}

const groupKey = (tenantId: string, type: string) => `${tenantId}\u0000${type}`;

/**
 * Decides which waiting job a free execution slot goes to. Priorities and fair sharing live here, in each runner's
 * memory, not in Kafka: the runner reads its partitions ahead of what it runs (up to `maxPending` jobs, see
 * `runner-consumer.ts`) and commits an offset only once the work of every message before it is done, so a job that
 * waits here keeps its place in the log until it has run, whatever order jobs start in.
 *
 * A free slot goes to the waiting job that:
 * 1. may start: its tenant, or that type of it, is not paused; its type and its tenant are below their limits;
 * 2. has the highest priority;
 * 3. belongs to the tenant with the fewest jobs running here, and among those to the one that started a job here
 *    longest ago (so a tenant with a backlog of thousands does not keep a tenant with a few jobs waiting: the few
 *    start as soon as slots free up, in turns with the backlog when there is a single slot);
 * 4. asked first.
 *
 * Waiting costs nothing but memory: nothing polls. A slot freed, a ticket added or a pause lifted looks again. A
 * waiting ticket listens to no signal (Node checks each new listener of an `AbortSignal` against all it has, which
 * makes a hundred thousand waiters on one signal quadratic): `close` withdraws them all at once.
 */
export class WorkScheduler {
  private running = 0;
  private readonly runningByType = new Map<string, number>();
  private readonly runningByTenant = new Map<string, number>();
  /** Groups with waiting tickets, by tenant and type. */
  private readonly groups = new Map<string, Group>();
  /** When each tenant last started a job here, counted in starts. */
  private readonly lastStartOf = new Map<string, number>();
  private starts = 0;
  private waitingCount = 0;
  private seq = 0;
  private closed = false;
  private readonly stopWatching: () => void;

  constructor(
    private limits: WorkLimits,
    private readonly paused: PauseState = NOTHING_PAUSED,
  ) {
    this.stopWatching = paused.onChange(() => this.dispatch());
  }

  /** Jobs holding a slot. */
  get inUse(): number {
    return this.running;
  }

  /** Jobs waiting for a slot (paused ones included). */
  get waiting(): number {
    return this.waitingCount;
  }

  /** Jobs of a tenant holding a slot. */
  runningOf(tenantId: string): number {
    return this.runningByTenant.get(tenantId) ?? 0;
  }

  /**
   * Resolves once the ticket holds a slot, with the function that gives it back. Rejects with `TicketWithdrawn` when
   * the scheduler is closed first.
   */
  acquire(ticket: WorkTicket): Promise<Release> {
    if (this.closed) return Promise.reject(new TicketWithdrawn());
    const normalized = { ...ticket, priority: clampPriority(ticket.priority) };
    if (this.waitingCount === 0 && this.mayStart(normalized.tenantId, normalized.type)) {
      return Promise.resolve(this.take(normalized));
    }
    return new Promise<Release>((resolve, reject) => {
      const withdraw = () => reject(new TicketWithdrawn());
      const waiter: Waiter = { ticket: normalized, seq: this.seq++, start: resolve, withdraw };
      const key = groupKey(normalized.tenantId, normalized.type);
      let group = this.groups.get(key);
      if (!group) this.groups.set(key, (group = new Group(normalized.tenantId, normalized.type)));
      group.push(waiter);
      this.waitingCount += 1;
      this.dispatch();
    });
  }

  /**
   * Replaces the limits of some tenants (those not named fall back to `tenantConcurrency`). A tenant whose limit drops
   * keeps the jobs it runs, and starts no more until it is under its new limit; one whose limit rises starts its
   * waiting jobs at once.
   */
  setTenantLimits(overrides: Readonly<Record<string, number>>): void {
    this.limits = { ...this.limits, tenantConcurrencyOverrides: { ...overrides } };
    this.dispatch();
  }

  /** Withdraws every waiting ticket and refuses new ones; jobs holding slots keep them until they give them back. */
  close(): void {
    this.closed = true;
    this.stopWatching();
    const groups = [...this.groups.values()];
    this.groups.clear();
    this.waitingCount = 0;
    for (const group of groups) for (const waiter of group.all()) waiter.withdraw();
  }

  private mayStart(tenantId: string, type: string): boolean {
    if (this.running >= this.limits.concurrency) return false;
    const typeLimit = ownValue(this.limits.typeConcurrency, type);
    if (typeLimit !== undefined && (this.runningByType.get(type) ?? 0) >= typeLimit) return false;
    if (this.runningOf(tenantId) >= this.tenantLimit(tenantId)) return false;
    return !this.paused.isPaused(tenantId, type);
  }

  private tenantLimit(tenantId: string): number {
    return (
      ownValue(this.limits.tenantConcurrencyOverrides, tenantId) ??
      this.limits.tenantConcurrency ??
      this.limits.concurrency
    );
  }

  private take(ticket: WorkTicket): Release {
    this.running += 1;
    this.runningByType.set(ticket.type, (this.runningByType.get(ticket.type) ?? 0) + 1);
    this.runningByTenant.set(ticket.tenantId, this.runningOf(ticket.tenantId) + 1);
    this.lastStartOf.set(ticket.tenantId, ++this.starts);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running -= 1;
      decrement(this.runningByType, ticket.type);
      decrement(this.runningByTenant, ticket.tenantId);
      this.dispatch();
    };
  }

  /** Gives free slots to the best waiting tickets, as long as there are both. */
  private dispatch(): void {
    while (!this.closed && this.running < this.limits.concurrency && this.waitingCount > 0) {
      let best: Candidate | undefined;
      for (const [key, group] of this.groups) {
        const waiter = group.peek();
        if (!waiter) {
          this.groups.delete(key);
          continue;
        }
        if (!this.mayStart(group.tenantId, group.type)) continue;
        const candidate = {
          group,
          waiter,
          tenantRunning: this.runningOf(group.tenantId),
          tenantLastStart: this.lastStartOf.get(group.tenantId) ?? 0,
        };
        if (!best || isBetter(candidate, best)) best = candidate;
      }
      if (!best) return;
      best.group.shift(best.waiter.ticket.priority);
      this.waitingCount -= 1;
      if (best.group.size === 0) this.groups.delete(groupKey(best.group.tenantId, best.group.type));
      best.waiter.start(this.take(best.waiter.ticket));
    }
  }
}

interface Candidate {
  group: Group;
  waiter: Waiter;
  tenantRunning: number;
  tenantLastStart: number;
}

function isBetter(a: Candidate, b: Candidate): boolean {
  if (a.waiter.ticket.priority !== b.waiter.ticket.priority) return a.waiter.ticket.priority > b.waiter.ticket.priority;
  if (a.tenantRunning !== b.tenantRunning) return a.tenantRunning < b.tenantRunning;
  if (a.tenantLastStart !== b.tenantLastStart) return a.tenantLastStart < b.tenantLastStart;
  return a.waiter.seq < b.waiter.seq;
}

/** A priority within the range; a job projected before priorities existed has none, and gets the default. */
function clampPriority(priority: number | undefined): number {
  if (priority === undefined || !Number.isInteger(priority)) return DEFAULT_PRIORITY;
  return Math.min(MAX_PRIORITY, Math.max(MIN_PRIORITY, priority));
}

/** A record's own value for `key`: a tenant named `constructor` has no limit from `Object.prototype`. */
function ownValue(record: Readonly<Record<string, number>> | undefined, key: string): number | undefined {
  return record && Object.hasOwn(record, key) ? record[key] : undefined;
}

function decrement(counts: Map<string, number>, key: string): void {
  const n = (counts.get(key) ?? 1) - 1;
  if (n === 0) counts.delete(key);
  else counts.set(key, n);
}
