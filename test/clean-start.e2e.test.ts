import type { JobView } from '@jobline/libs';
import { readJson, testNamespace } from '@jobline/libs/testing';
import { settledView } from './job-settled';
import { startJobline, type Jobline } from './service-process';

/** A log line that is not a JSON entry at info or below: an error, a warning, or output that is no log entry. */
function loud(line: string): boolean {
  try {
    const { level } = JSON.parse(line) as { level?: unknown };
    return level === 'error' || level === 'warn';
  } catch {
    return true;
  }
}

/**
 * A healthy start logs no error and no warning: the three services started at once on topics that do not exist yet
 * (so they race to create them, and join groups whose coordinators have just been chosen), with signing keys of
 * their own (the development keys are warned about on purpose), then a job through all of them.
 */
describe('starting producer, persister and runner on a fresh topic prefix', () => {
  let jobline: Jobline;

  beforeAll(async () => {
    jobline = await startJobline(testNamespace(), {
      API_TOKENS: 'clean-token:clean',
      CALLBACK_SIGNING_KEY: 'a-callback-key-of-this-deployment',
      DOWNLOAD_SIGNING_KEY: 'a-download-key-of-this-deployment',
    });
  });

  afterAll(() => jobline?.stop());

  it('logs no error and no warning, from start to a completed job to a clean stop', async () => {
    const headers = { authorization: 'Bearer clean-token', 'content-type': 'application/json' };
    const res = await fetch(`${jobline.base}/v1/jobs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ type: 'sleep', payload: { ms: 10 } }),
    });
    expect(res.status).toBe(202);
    const job = (await readJson(res)) as JobView;
    expect((await settledView(`${jobline.base}/v1/jobs/${job.id}`, headers, 30_000)).status).toBe('completed');
    await Promise.all(jobline.services.map((s) => s.stop()));

    const lines = jobline.services.flatMap((s) => s.lines.map((line) => `${s.name}: ${line}`));
    expect(lines.filter((line) => loud(line.slice(line.indexOf(': ') + 2)))).toEqual([]);
    // The services did log: the assertion above looked at their output.
    for (const service of jobline.services) expect(service.lines.length).toBeGreaterThan(0);
  });
});
