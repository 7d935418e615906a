import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NewmanRunSummary } from 'newman';
import { testInfra, testNamespace } from '@jobline/libs/testing';
import { MongoClient } from 'mongodb';
import { freePort, ServiceProcess } from './service-process';

const ROOT = join(__dirname, '..');
const COLLECTION_DIR = join(ROOT, 'postman_collection');
const readCollectionFile = (name: string): unknown => JSON.parse(readFileSync(join(COLLECTION_DIR, name), 'utf8'));

interface CollectionItem {
  item?: CollectionItem[];
  event?: { listen: string; script: { exec: string[] } }[];
}

/** The requests of a collection, and the pm.test calls in their test scripts (each runs once per request). */
function countCollection(item: CollectionItem): { requests: number; tests: number } {
  if (item.item) {
    return item.item
      .map(countCollection)
      .reduce((a, b) => ({ requests: a.requests + b.requests, tests: a.tests + b.tests }));
  }
  const tests = (item.event ?? [])
    .filter((e) => e.listen === 'test')
    .flatMap((e) => e.script.exec)
    .reduce((n, line) => n + (line.match(/pm\.test\(/g)?.length ?? 0), 0);
  return { requests: 1, tests };
}

/**
 * The newman command the README documents, as written there: the lines of its `sh` block from `npx newman run` to
 * the end of the command (continued with `\`). The test runs it from the repository root, as a reader would.
 */
function documentedNewmanCommand(readme: string): string {
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const lines = blocks.flatMap((block) => block.split('\n'));
  const start = lines.findIndex((line) => line.startsWith('npx newman run '));
  if (start < 0) throw new Error('README.md documents no `npx newman run` command in an sh block');
  const end = lines.findIndex((line, i) => i >= start && !line.endsWith('\\'));
  return lines.slice(start, end + 1).join('\n');
}

/**
 * Runs the README's newman command from the repository root. Only where the API answers changes (the README's port
 * may be taken; a later `--env-var` wins), and newman also writes its summary as JSON for the assertions.
 */
async function runDocumentedCommand(
  baseUrl: string,
): Promise<{ summary: NewmanRunSummary; exitCode: number | null; output: string }> {
  const command = documentedNewmanCommand(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  const dir = mkdtempSync(join(tmpdir(), 'newman-'));
  try {
    const report = join(dir, 'summary.json');
    const child = spawn(
      'sh',
      ['-c', `${command} --env-var baseUrl=${baseUrl} --reporters cli,json --reporter-json-export ${report}`],
      { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exitCode = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (!existsSync(report)) throw new Error(`newman wrote no summary (exit ${exitCode}):\n${output}`);
    return { summary: JSON.parse(readFileSync(report, 'utf8')) as NewmanRunSummary, exitCode, output };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One line per failed assertion or request error, naming the request, for the test's failure message. */
function describeFailures(summary: NewmanRunSummary): string[] {
  return summary.run.failures.map((failure) => {
    const source = (failure.source as { name?: string } | undefined)?.name ?? 'collection';
    return `${source}: ${failure.error.name}: ${failure.error.message}`;
  });
}

describe('the Postman collection, run with newman against producer, persister and runner', () => {
  const ns = testNamespace();
  const services: ServiceProcess[] = [];
  let baseUrl: string;

  beforeAll(async () => {
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    const env = {
      ...ns.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      // The README's command authenticates with the local stack's token.
      API_TOKENS: 'dev-token:postman',
    };
    services.push(await ServiceProcess.start('producer', env));
    services.push(...(await Promise.all([ServiceProcess.start('consumer', env), ServiceProcess.start('runner', env)])));
  });

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    const mongo = new MongoClient(testInfra().mongoUri);
    await mongo.db(ns.database).dropDatabase();
    await mongo.close();
  });

  it('passes every assertion of every request, with no request errors, run as the README shows from the root', async () => {
    const { summary, exitCode, output } = await runDocumentedCommand(baseUrl);
    const { stats } = summary.run;

    expect(describeFailures(summary)).toEqual([]);
    expect({ exitCode, output: exitCode === 0 ? '' : output }).toEqual({ exitCode: 0, output: '' });
    expect(stats.assertions.failed).toBe(0);
    expect(stats.requests.failed).toBe(0);
    expect(stats.testScripts.failed).toBe(0);
    expect(stats.prerequestScripts.failed).toBe(0);
    // Every request ran (polls repeat some) and every pm.test was reached.
    const expected = countCollection(readCollectionFile('jobline.postman_collection.json') as CollectionItem);
    expect(stats.requests.total).toBeGreaterThanOrEqual(expected.requests);
    expect(stats.assertions.total).toBe(expected.tests);
  });
});
