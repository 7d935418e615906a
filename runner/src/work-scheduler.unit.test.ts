import type { PauseState } from './pause-state';
import { TicketWithdrawn, WorkScheduler, type Release, type WorkTicket } from './work-scheduler';

const ticket = (overrides: Partial<WorkTicket> = {}): WorkTicket => ({
  tenantId: 'a',
  type: 'noop',
  priority: 5,
  ...overrides,
});

/** A pause state the test flips by hand. */
function pauses(): PauseState & { pause(tenantId: string, type?: string): void; resume(): void } {
  const paused = new Set<string>();
  const listeners = new Set<() => void>();
  return {
    isPaused: (tenantId, type) => paused.has(tenantId) || paused.has(`${tenantId}/${type}`),
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    pause(tenantId, type) {
      paused.add(type ? `${tenantId}/${type}` : tenantId);
      for (const listener of listeners) listener();
    },
    resume() {
      paused.clear();
      for (const listener of listeners) listener();
    },
  };
}

/** Asks for a slot for each ticket, in order; records the order in which they start. */
function queue(scheduler: WorkScheduler, tickets: (WorkTicket & { name: string })[]) {
  const started: string[] = [];
  const releases = new Map<string, Release>();
  for (const t of tickets) {
    void scheduler.acquire(t).then((release) => {
      started.push(t.name);
      releases.set(t.name, release);
    });
  }
  return { started, release: (name: string) => releases.get(name)!() };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('WorkScheduler', () => {
  it('starts at once while slots are free, and holds the rest until a slot is given back', async () => {
    // given: two slots
    const scheduler = new WorkScheduler({ concurrency: 2 });

    // when: three tickets
    const { started, release } = queue(scheduler, [
      { ...ticket(), name: 'first' },
      { ...ticket(), name: 'second' },
      { ...ticket(), name: 'third' },
    ]);
    await settle();

    // then
    expect(started).toEqual(['first', 'second']);
    expect(scheduler.waiting).toBe(1);
    release('first');
    await settle();
    expect(started).toEqual(['first', 'second', 'third']);
    expect(scheduler.inUse).toBe(2);
  });

  it('gives a freed slot to the highest priority waiting, then to the oldest of that priority', async () => {
    // given: the one slot busy
    const scheduler = new WorkScheduler({ concurrency: 1 });
    const { started, release } = queue(scheduler, [
      { ...ticket(), name: 'busy' },
      { ...ticket({ priority: 1 }), name: 'low' },
      { ...ticket({ priority: 5 }), name: 'normal-1' },
      { ...ticket({ priority: 9 }), name: 'high' },
      { ...ticket({ priority: 5 }), name: 'normal-2' },
    ]);
    await settle();

    // when: each started job gives its slot back
    for (const name of ['busy', 'high', 'normal-1', 'normal-2']) {
      release(name);
      await settle();
    }

    // then
    expect(started).toEqual(['busy', 'high', 'normal-1', 'normal-2', 'low']);
  });

  it('gives a freed slot to the tenant with the fewest jobs running, ahead of an older backlog', async () => {
    // given: tenant big holds both slots and has a backlog; tenant small asks after it
    const scheduler = new WorkScheduler({ concurrency: 2 });
    const { started, release } = queue(scheduler, [
      ...Array.from({ length: 5 }, (_, i) => ({ ...ticket({ tenantId: 'big' }), name: `big-${i}` })),
      { ...ticket({ tenantId: 'small' }), name: 'small-0' },
    ]);
    await settle();
    expect(started).toEqual(['big-0', 'big-1']);

    // when
    release('big-0');
    await settle();

    // then
    expect(started).toEqual(['big-0', 'big-1', 'small-0']);
  });

  it('keeps a tenant within its limit while slots stay free for the others', async () => {
    // given: four slots, two per tenant, three for tenant vip
    const scheduler = new WorkScheduler({
      concurrency: 4,
      tenantConcurrency: 2,
      tenantConcurrencyOverrides: { vip: 3 },
    });

    // when
    const { started } = queue(scheduler, [
      ...Array.from({ length: 3 }, (_, i) => ({ ...ticket({ tenantId: 'a' }), name: `a-${i}` })),
      ...Array.from({ length: 4 }, (_, i) => ({ ...ticket({ tenantId: 'vip' }), name: `vip-${i}` })),
    ]);
    await settle();

    // then: a stops at 2 although slots were free; vip fills the rest up to the global limit
    expect(started).toEqual(['a-0', 'a-1', 'vip-0', 'vip-1']);
    expect(scheduler.runningOf('a')).toBe(2);
  });

  it('applies changed tenant limits at once: a raised limit starts waiting jobs, a lowered one starts no more', async () => {
    // given: tenant a capped at 1 of 4 slots, three of its jobs asked for
    const scheduler = new WorkScheduler({ concurrency: 4, tenantConcurrencyOverrides: { a: 1 } });
    const { started, release } = queue(
      scheduler,
      Array.from({ length: 4 }, (_, i) => ({ ...ticket({ tenantId: 'a' }), name: `a-${i}` })),
    );
    await settle();
    expect(started).toEqual(['a-0']);

    // when: raised to 3
    scheduler.setTenantLimits({ a: 3 });
    await settle();

    // then
    expect(started).toEqual(['a-0', 'a-1', 'a-2']);

    // when: lowered to 1, and one job gives its slot back
    scheduler.setTenantLimits({ a: 1 });
    release('a-0');
    await settle();

    // then: still two running, over the new limit: nothing starts
    expect(started).toEqual(['a-0', 'a-1', 'a-2']);
    expect(scheduler.runningOf('a')).toBe(2);
  });

  it("reads a tenant's limit from its own entry only: tenants named like Object's members have the default", async () => {
    const scheduler = new WorkScheduler({ concurrency: 2, tenantConcurrency: 1, tenantConcurrencyOverrides: {} });

    const { started } = queue(scheduler, [
      { ...ticket({ tenantId: 'constructor' }), name: 'constructor-0' },
      { ...ticket({ tenantId: 'constructor' }), name: 'constructor-1' },
      { ...ticket({ tenantId: 'toString' }), name: 'toString-0' },
    ]);
    await settle();

    expect(started).toEqual(['constructor-0', 'toString-0']);
  });

  it('keeps a job type within its limit', async () => {
    const scheduler = new WorkScheduler({ concurrency: 4, typeConcurrency: { sleep: 1 } });

    const { started } = queue(scheduler, [
      { ...ticket({ type: 'sleep' }), name: 'sleep-0' },
      { ...ticket({ type: 'sleep' }), name: 'sleep-1' },
      { ...ticket({ type: 'noop' }), name: 'noop-0' },
    ]);
    await settle();

    expect(started).toEqual(['sleep-0', 'noop-0']);
  });

  it('holds paused work without a slot, lets other work pass it, and starts it in its order once resumed', async () => {
    // given: type sleep of tenant a paused
    const state = pauses();
    state.pause('a', 'sleep');
    const scheduler = new WorkScheduler({ concurrency: 2 }, state);

    // when
    const { started } = queue(scheduler, [
      { ...ticket({ type: 'sleep' }), name: 'sleep-0' },
      { ...ticket({ type: 'sleep' }), name: 'sleep-1' },
      { ...ticket({ type: 'noop' }), name: 'noop-0' },
      { ...ticket({ tenantId: 'b', type: 'sleep' }), name: 'b-sleep' },
    ]);
    await settle();

    // then
    expect(started).toEqual(['noop-0', 'b-sleep']);
    expect(scheduler.waiting).toBe(2);

    // when: resumed while both slots are busy
    state.resume();
    await settle();

    // then: the paused work waits for a slot like any other
    expect(started).toEqual(['noop-0', 'b-sleep']);
    expect(scheduler.waiting).toBe(2);
  });

  it('starts paused work in its order once resumed and slots are free', async () => {
    // given: tenant a paused as a whole
    const state = pauses();
    state.pause('a');
    const scheduler = new WorkScheduler({ concurrency: 2 }, state);
    const { started } = queue(scheduler, [
      { ...ticket({ type: 'sleep' }), name: 'first' },
      { ...ticket({ type: 'noop' }), name: 'second' },
      { ...ticket({ type: 'sleep' }), name: 'third' },
    ]);
    await settle();
    expect(started).toEqual([]);

    // when
    state.resume();
    await settle();

    // then
    expect(started).toEqual(['first', 'second']);
  });

  it('withdraws every waiting ticket when closed, refuses new ones, and never starts them', async () => {
    // given: the slot busy, two tickets waiting, one of them paused
    const state = pauses();
    state.pause('b');
    const scheduler = new WorkScheduler({ concurrency: 1 }, state);
    const release = await scheduler.acquire(ticket());
    const waiting = [scheduler.acquire(ticket()), scheduler.acquire(ticket({ tenantId: 'b' }))];

    // when
    scheduler.close();

    // then
    for (const ticket of waiting) await expect(ticket).rejects.toBeInstanceOf(TicketWithdrawn);
    await expect(scheduler.acquire(ticket())).rejects.toBeInstanceOf(TicketWithdrawn);
    expect(scheduler.waiting).toBe(0);
    release();
    state.resume();
    expect(scheduler.inUse).toBe(0);
  });

  it('counts a slot given back twice once', async () => {
    const scheduler = new WorkScheduler({ concurrency: 1 });
    const release = await scheduler.acquire(ticket());

    release();
    release();

    expect(scheduler.inUse).toBe(0);
    await scheduler.acquire(ticket());
    expect(scheduler.inUse).toBe(1);
  });

  it('treats a job without a priority as of the default priority', async () => {
    // given: the slot busy; a ticket of priority 4 asked before one without a priority
    const scheduler = new WorkScheduler({ concurrency: 1 });
    const { started, release } = queue(scheduler, [
      { ...ticket(), name: 'busy' },
      { ...ticket({ priority: 4 }), name: 'four' },
      { ...ticket({ priority: undefined as unknown as number }), name: 'none' },
    ]);
    await settle();

    release('busy');
    await settle();

    expect(started).toEqual(['busy', 'none']);
  });

  it('takes turns between tenants when there is a single slot', async () => {
    // given: the one slot held by tenant big, which has a backlog; small asks after it
    const scheduler = new WorkScheduler({ concurrency: 1 });
    const { started, release } = queue(scheduler, [
      ...Array.from({ length: 4 }, (_, i) => ({ ...ticket({ tenantId: 'big' }), name: `big-${i}` })),
      ...Array.from({ length: 2 }, (_, i) => ({ ...ticket({ tenantId: 'small' }), name: `small-${i}` })),
    ]);
    await settle();

    // when
    for (const name of ['big-0', 'small-0', 'big-1', 'small-1']) {
      release(name);
      await settle();
    }

    // then
    expect(started).toEqual(['big-0', 'small-0', 'big-1', 'small-1', 'big-2']);
  });

  it('serves a backlog of a hundred thousand tickets without slowing down', async () => {
    // given: one slot held by tenant big; 100,000 more of its tickets waiting
    const scheduler = new WorkScheduler({ concurrency: 1 });
    let release = await scheduler.acquire(ticket({ tenantId: 'big' }));
    const backlog = Array.from({ length: 100_000 }, () => scheduler.acquire(ticket({ tenantId: 'big' })));

    // when: a ticket of another tenant arrives behind them
    const small = scheduler.acquire(ticket({ tenantId: 'small' }));
    release();

    // then: it is next
    release = await small;
    expect(scheduler.waiting).toBe(100_000);
    release();
    for (const next of backlog.slice(0, 3)) (await next)();
    expect(scheduler.waiting).toBe(100_000 - 4);
  });
});
