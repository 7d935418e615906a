import { createLogger } from '@jobline/libs';
import { createTenantLimitRefresher } from './tenant-limit-refresher';
import type { TenantLimit } from './tenant-limit-store';
import type { TenantLimits } from './tenant-limits';

const INTERVAL = 10_000;
const limit = (tenantId: string, concurrency: unknown): TenantLimit => ({
  tenantId,
  concurrency: concurrency as number,
  updatedAt: new Date(0),
  by: null,
});

describe('the tenant limit refresher', () => {
  let collection: TenantLimit[] | Error;
  let reads: number;
  let applied: TenantLimits[];
  const logger = createLogger({ service: 'test', level: 'error' });

  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    collection = [];
    reads = 0;
    applied = [];
  });
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  const start = async (envLimits: TenantLimits = {}, read?: () => Promise<TenantLimit[]>) => {
    const refresher = createTenantLimitRefresher({
      read:
        read ??
        (async () => {
          reads += 1;
          if (collection instanceof Error) throw collection;
          return collection;
        }),
      envLimits,
      apply: (limits) => applied.push(limits),
      intervalMs: INTERVAL,
      logger,
    });
    await refresher.start();
    return refresher;
  };

  it('applies the collection’s limits over the environment’s before start resolves', async () => {
    collection = [limit('acme', 8), limit('globex', 2)];
    const refresher = await start({ acme: 4, batch: 1 });
    expect(applied).toEqual([{ acme: 8, batch: 1, globex: 2 }]);
    expect(refresher.limits).toEqual({ acme: 8, batch: 1, globex: 2 });
    refresher.stop();
  });

  it('applies nothing while the merged limits equal those the runner started with', async () => {
    collection = [limit('acme', 4)];
    const refresher = await start({ acme: 4 });
    await jest.advanceTimersByTimeAsync(3 * INTERVAL);
    expect(reads).toBe(4);
    expect(applied).toEqual([]);
    refresher.stop();
  });

  it('reads once per interval, and applies a set, changed or removed limit once', async () => {
    const info = jest.spyOn(logger, 'info');
    const refresher = await start({ batch: 1 });
    expect(reads).toBe(1);
    await jest.advanceTimersByTimeAsync(INTERVAL - 1);
    expect(reads).toBe(1);

    collection = [limit('acme', 8)];
    await jest.advanceTimersByTimeAsync(1);
    expect(reads).toBe(2);
    expect(applied).toEqual([{ batch: 1, acme: 8 }]);
    expect(info).toHaveBeenLastCalledWith('tenant limits changed: acme default → 8', {
      changes: [{ tenantId: 'acme', from: null, to: 8 }],
    });

    await jest.advanceTimersByTimeAsync(INTERVAL);
    expect(applied).toHaveLength(1);

    collection = [limit('acme', 2), limit('batch', 3)];
    await jest.advanceTimersByTimeAsync(INTERVAL);
    expect(applied.at(-1)).toEqual({ acme: 2, batch: 3 });
    expect(info).toHaveBeenLastCalledWith('tenant limits changed: acme 8 → 2, batch 1 → 3', expect.anything());

    collection = [];
    await jest.advanceTimersByTimeAsync(INTERVAL);
    expect(applied.at(-1)).toEqual({ batch: 1 });
    expect(info).toHaveBeenLastCalledWith('tenant limits changed: acme 2 → default, batch 3 → 1', expect.anything());
    expect(applied).toHaveLength(3);
    refresher.stop();
  });

  it('keeps the limits in force while reads fail, with one warning per outage', async () => {
    const warn = jest.spyOn(logger, 'warn');
    const info = jest.spyOn(logger, 'info');
    collection = [limit('acme', 8)];
    const refresher = await start();

    collection = new Error('connection refused');
    await jest.advanceTimersByTimeAsync(5 * INTERVAL);
    expect(reads).toBe(6);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith('cannot read tenant_limits; keeping the tenant limits in force', {
      err: collection,
    });
    expect(refresher.limits).toEqual({ acme: 8 });
    expect(applied).toEqual([{ acme: 8 }]);

    collection = [limit('acme', 3)];
    await jest.advanceTimersByTimeAsync(INTERVAL);
    expect(info).toHaveBeenCalledWith('reading tenant_limits again');
    expect(applied).toEqual([{ acme: 8 }, { acme: 3 }]);

    collection = new Error('connection refused again');
    await jest.advanceTimersByTimeAsync(2 * INTERVAL);
    expect(warn).toHaveBeenCalledTimes(2);
    expect(refresher.limits).toEqual({ acme: 3 });
    refresher.stop();
  });

  it('starts with the environment’s limits when the first read fails', async () => {
    jest.spyOn(logger, 'warn');
    collection = new Error('MongoDB away');
    const refresher = await start({ batch: 1 });
    expect(refresher.limits).toEqual({ batch: 1 });
    expect(applied).toEqual([]);
    refresher.stop();
  });

  it('leaves out documents that are not a valid limit, and says so once', async () => {
    const warn = jest.spyOn(logger, 'warn');
    collection = [limit('acme', 0), limit('batch', 2), limit('globex', '3'), limit('initech', 1.5)];
    const refresher = await start({ acme: 4 });
    await jest.advanceTimersByTimeAsync(2 * INTERVAL);
    expect(applied).toEqual([{ acme: 4, batch: 2 }]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith('ignoring tenant limits that are not a whole number from 1 to 10000', {
      ignored: '"acme": 0, "globex": "3", "initech": 1.5',
    });
    refresher.stop();
  });

  it('waits for a slow read to end before it counts the next interval', async () => {
    let finish: (limits: TenantLimit[]) => void = () => undefined;
    const refresher = await start({}, async () => {
      reads += 1;
      return reads === 1 ? [] : new Promise<TenantLimit[]>((resolve) => (finish = resolve));
    });
    await jest.advanceTimersByTimeAsync(INTERVAL);
    expect(reads).toBe(2);
    await jest.advanceTimersByTimeAsync(10 * INTERVAL);
    expect(reads).toBe(2);
    finish([]);
    await jest.advanceTimersByTimeAsync(INTERVAL - 1);
    expect(reads).toBe(2);
    await jest.advanceTimersByTimeAsync(1);
    expect(reads).toBe(3);
    refresher.stop();
    finish([]);
  });

  it('stops its timer at once, and applies and logs nothing from a read that ends after stop', async () => {
    const warn = jest.spyOn(logger, 'warn');
    let finish: (limits: TenantLimit[]) => void = () => undefined;
    const refresher = await start({}, async () => {
      reads += 1;
      return reads === 1 ? [] : new Promise<TenantLimit[]>((resolve) => (finish = resolve));
    });
    await jest.advanceTimersByTimeAsync(INTERVAL);
    expect(reads).toBe(2);
    refresher.stop();
    expect(jest.getTimerCount()).toBe(0);
    finish([limit('acme', 8)]);
    await jest.advanceTimersByTimeAsync(10 * INTERVAL);
    expect(applied).toEqual([]);
    expect(reads).toBe(2);
    expect(jest.getTimerCount()).toBe(0);

    const failing = await start({}, async () => {
      reads += 1;
      if (reads === 3) return [];
      return new Promise<TenantLimit[]>((_, reject) => (finish = () => reject(new Error('client closed'))));
    });
    await jest.advanceTimersByTimeAsync(INTERVAL);
    failing.stop();
    finish([]);
    await jest.advanceTimersByTimeAsync(INTERVAL);
    expect(warn).not.toHaveBeenCalled();
  });
});
