import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { MongoClient } from 'mongodb';
import { connectMongo, createLogger, tenantLimitsCollection, type MongoConnection } from '@jobline/libs';
import { testInfra, testNamespace, waitFor } from '@jobline/libs/testing';
import { createTenantLimitRefresher, type TenantLimitRefresher } from './tenant-limit-refresher';
import { createTenantLimitStore, type TenantLimitStore } from './tenant-limit-store';
import type { TenantLimits } from './tenant-limits';

const INTERVAL = 50;

/** A TCP proxy in front of MongoDB that can go away (drop its connections and refuse new ones) and come back. */
async function startMongoProxy(target: URL) {
  const sockets = new Set<Socket>();
  let refusing = false;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket)).on('error', () => undefined);
  };
  const server = createServer((client) => {
    track(client);
    if (refusing) return client.destroy();
    const upstream = connect(Number(target.port || 27017), target.hostname);
    track(upstream);
    client.pipe(upstream).pipe(client);
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    uri: `mongodb://127.0.0.1:${(server.address() as AddressInfo).port}/?directConnection=true`,
    goAway() {
      refusing = true;
      for (const socket of sockets) socket.destroy();
    },
    comeBack() {
      refusing = false;
    },
    async close() {
      this.goAway();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('the tenant limit refresher against MongoDB', () => {
  const ns = testNamespace();
  let mongo: MongoConnection;
  let store: TenantLimitStore;
  let refresher: TenantLimitRefresher | undefined;
  const logger = createLogger({ service: 'test', level: 'error' });

  beforeAll(async () => {
    mongo = await connectMongo(testInfra().mongoUri, ns.database);
    store = createTenantLimitStore(tenantLimitsCollection(mongo.db));
  });
  afterEach(async () => {
    refresher?.stop();
    jest.restoreAllMocks();
    await tenantLimitsCollection(mongo.db).deleteMany({});
  });
  afterAll(async () => {
    await mongo.db.dropDatabase();
    await mongo.client.close();
  });

  /** What the runner was given, in order, as `RunnerConsumer.setTenantLimits` would receive it. */
  const startRefresher = async (readFrom: TenantLimitStore, envLimits: TenantLimits) => {
    const applied: TenantLimits[] = [];
    let reads = 0;
    refresher = createTenantLimitRefresher({
      read: () => {
        reads += 1;
        return readFrom.list();
      },
      envLimits,
      apply: (limits) => applied.push(limits),
      intervalMs: INTERVAL,
      logger,
    });
    await refresher.start();
    return { applied, reads: () => reads };
  };
  const lastApplied = (applied: TenantLimits[], expected: TenantLimits, description: string) =>
    waitFor(() => JSON.stringify(applied.at(-1)) === JSON.stringify(expected), { description });

  it('gives the runner the limits set in the collection, over the environment’s, as they are set, changed and removed', async () => {
    await store.set({ tenantId: 'acme', concurrency: 3 });
    const { applied } = await startRefresher(store, { batch: 1 });
    // Applied before start resolves, so before the runner's consumer starts.
    expect(applied).toEqual([{ batch: 1, acme: 3 }]);

    await store.set({ tenantId: 'acme', concurrency: 5, by: 'ada' });
    await lastApplied(applied, { batch: 1, acme: 5 }, 'the changed limit of acme');

    await store.set({ tenantId: 'batch', concurrency: 4 });
    await lastApplied(applied, { batch: 4, acme: 5 }, 'the collection’s limit of batch over the environment’s');

    await store.remove('acme');
    await lastApplied(applied, { batch: 4 }, 'acme without a limit');
    await store.remove('batch');
    await lastApplied(applied, { batch: 1 }, 'the environment’s limit of batch again');

    expect(applied).toEqual([
      { batch: 1, acme: 3 },
      { batch: 1, acme: 5 },
      { batch: 4, acme: 5 },
      { batch: 4 },
      { batch: 1 },
    ]);
  });

  it('keeps the last limits while MongoDB is away, with one warning, and reads the new ones when it is back', async () => {
    const proxy = await startMongoProxy(new URL(testInfra().mongoUri));
    const client = new MongoClient(proxy.uri, { serverSelectionTimeoutMS: 300, heartbeatFrequencyMS: 500 });
    try {
      await client.connect();
      const warn = jest.spyOn(logger, 'warn');
      const info = jest.spyOn(logger, 'info');
      await store.set({ tenantId: 'acme', concurrency: 3 });
      const { applied, reads } = await startRefresher(
        createTenantLimitStore(tenantLimitsCollection(client.db(ns.database))),
        {},
      );
      expect(applied).toEqual([{ acme: 3 }]);

      proxy.goAway();
      await store.set({ tenantId: 'acme', concurrency: 7 });
      await waitFor(() => warn.mock.calls.length > 0, { description: 'the warning of a failed read' });
      const failedSoFar = reads();
      await waitFor(() => reads() >= failedSoFar + 3, { description: 'three more failed reads' });
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn).toHaveBeenCalledWith('cannot read tenant_limits; keeping the tenant limits in force', {
        err: expect.objectContaining({ name: expect.stringMatching(/^Mongo\w*Error$/) }),
      });
      expect(applied).toEqual([{ acme: 3 }]);
      expect(refresher!.limits).toEqual({ acme: 3 });

      proxy.comeBack();
      await lastApplied(applied, { acme: 7 }, 'the limit set while MongoDB was away');
      expect(info).toHaveBeenCalledWith('reading tenant_limits again');
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      refresher?.stop();
      await client.close();
      await proxy.close();
    }
  });
});
