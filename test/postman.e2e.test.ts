import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import newman, { type NewmanRunSummary } from 'newman';
import { testInfra, testNamespace } from '@jobline/libs/testing';
import { MongoClient } from 'mongodb';
import { freePort, ServiceProcess } from './service-process';

const COLLECTION_DIR = join(__dirname, '..', 'postman_collection');
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

function runCollection(baseUrl: string, token: string): Promise<NewmanRunSummary> {
  return new Promise((resolve, reject) => {
    newman.run(
      {
        collection: readCollectionFile('jobline.postman_collection.json') as never,
        environment: readCollectionFile('jobline.postman_environment.json') as never,
        envVar: [
          { key: 'baseUrl', value: baseUrl },
          { key: 'token', value: token },
        ],
        // File uploads name their files relative to the collection.
        workingDir: COLLECTION_DIR,
        timeoutRequest: 10_000,
        // The collection's own polls are bounded; this only stops a run that loops for another reason.
        timeout: 100_000,
        reporters: [],
      },
      (err, summary) => (err ? reject(err) : resolve(summary)),
    );
  });
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
      API_TOKENS: 'postman-token:postman',
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

  it('passes every assertion of every request, with no request errors', async () => {
    const summary = await runCollection(baseUrl, 'postman-token');
    const { stats } = summary.run;

    expect(describeFailures(summary)).toEqual([]);
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
