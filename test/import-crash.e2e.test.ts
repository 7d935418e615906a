import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobView } from '@jobline/libs';
import { readJson, testInfra, testNamespace, waitFor } from '@jobline/libs/testing';
import { MongoClient } from 'mongodb';
import { joblineEnv, ServiceProcess } from './service-process';

const AUTH = { authorization: 'Bearer crash-token' };
const ROWS = 12_000;

interface ImportView extends JobView {
  report: { processed: number; imported: number; failed: number } | null;
  result: { resumedAfter?: number | null; processed?: number } | null;
}

/**
 * A runner killed with SIGKILL in the middle of an import: the job's partition moves to another runner, which runs
 * the import again under the same id and resumes after the last checkpoint. Every record arrives once.
 */
describe('an import whose runner is killed mid-way', () => {
  const ns = testNamespace();
  const blobDir = join(tmpdir(), `jobline-import-crash-${randomUUID()}`);
  let base: string;
  let env: Record<string, string | undefined>;
  const services: ServiceProcess[] = [];

  beforeAll(async () => {
    ({ base, env } = await joblineEnv(ns, {
      API_TOKENS: 'crash-token:crash',
      BLOB_DIR: blobDir,
      // A dead runner's partitions move on after this.
      KAFKA_SESSION_TIMEOUT_MS: '6000',
    }));
    services.push(await ServiceProcess.start('producer', env));
    services.push(await ServiceProcess.start('consumer', env));
  });

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    const mongo = new MongoClient(testInfra().mongoUri);
    await mongo.db(ns.database).dropDatabase();
    await mongo.close();
    await rm(blobDir, { recursive: true, force: true });
  });

  it('resumes from its checkpoint on another runner, with every record imported once', async () => {
    const first = await ServiceProcess.start('runner', env);
    services.push(first);
    const lines = Array.from({ length: ROWS }, (_, i) =>
      JSON.stringify({ externalId: randomUUID(), username: `user${i}`, email: `user${i}@example.com` }),
    );
    const form = new FormData();
    form.append('file', new Blob([lines.join('\n')], { type: 'application/x-ndjson' }), 'users.ndjson');
    const res = await fetch(`${base}/v1/imports?resource=users`, { method: 'POST', headers: AUTH, body: form });
    expect(res.status).toBe(202);
    const { id } = (await readJson(res)) as JobView;
    const view = async () => (await readJson(await fetch(`${base}/v1/imports/${id}`, { headers: AUTH }))) as ImportView;

    // Kill it once some batches are written and well before the end.
    const before = await waitFor(
      async () => {
        const current = await view();
        return current.report && current.report.processed >= 2000 ? current : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 20, description: 'the import to be under way' },
    );
    expect(before.report!.processed).toBeLessThan(ROWS);
    expect(await first.stop('SIGKILL')).toBeNull();
    services.push(await ServiceProcess.start('runner', env));

    const done = await waitFor(
      async () => {
        const current = await view();
        return current.status === 'completed' || current.status === 'failed' ? current : undefined;
      },
      { timeoutMs: 240_000, description: 'the import to finish on the second runner' },
    );
    expect(done).toMatchObject({ status: 'completed', report: { processed: ROWS, imported: ROWS, failed: 0 } });
    // The second run started after the first one's checkpoint, not from the top.
    expect(done.result!.resumedAfter).toBeGreaterThanOrEqual(before.report!.processed - 1);

    const mongo = new MongoClient(testInfra().mongoUri);
    try {
      const users = mongo.db(ns.database).collection('users');
      expect(await users.countDocuments({ tenantId: 'crash' })).toBe(ROWS);
      const distinct = await users.distinct('externalId', { tenantId: 'crash' });
      expect(distinct).toHaveLength(ROWS);
    } finally {
      await mongo.close();
    }
  });
});
