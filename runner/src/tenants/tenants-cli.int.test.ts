import { runCaptured, testInfra, testNamespace } from '@jobline/libs/testing';
import { connectMongo, tenantLimitsCollection, type MongoConnection } from '@jobline/libs';
import { EXIT_FAILED, EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE, runTenantsCli } from './tenants-cli';

describe('npm run tenants', () => {
  const ns = testNamespace();
  let mongo: MongoConnection;
  const env = () => ({ MONGODB_URI: testInfra().mongoUri, MONGODB_DB: ns.database });

  beforeAll(async () => {
    mongo = await connectMongo(testInfra().mongoUri, ns.database);
  });
  afterAll(async () => {
    await mongo.db.dropDatabase();
    await mongo.client.close();
  });

  function run(argv: string[], environment: Record<string, string> = env()) {
    return runCaptured((io) => runTenantsCli(argv, environment, io));
  }

  it('sets, changes, lists and removes a tenant’s limit, one document per tenant', async () => {
    const set = await run(['limit', '--tenant', 'acme', '--concurrency', '8', '--by', 'ada']);
    expect(set).toMatchObject({ code: EXIT_OK, stderr: '' });
    expect(set.stdout).toBe(
      'acme: none → 8; runners apply it within RUNNER_TENANT_LIMITS_REFRESH_MS (10 s by default)\n',
    );
    const [doc] = await tenantLimitsCollection(mongo.db).find({ _id: 'acme' }).toArray();
    expect(doc).toEqual({ _id: 'acme', concurrency: 8, updatedAt: expect.any(Date), by: 'ada' });

    const changed = await run(['limit', '--tenant', 'acme', '--concurrency', '2']);
    expect(changed.code).toBe(EXIT_OK);
    expect(changed.stdout).toMatch(/^acme: 8 → 2; /);
    expect(await tenantLimitsCollection(mongo.db).find().toArray()).toEqual([
      { _id: 'acme', concurrency: 2, updatedAt: expect.any(Date) },
    ]);
    expect(await run(['limit', '--tenant', 'batch', '--concurrency', '1'])).toMatchObject({ code: EXIT_OK });

    const listed = await run(['list']);
    expect(listed.code).toBe(EXIT_OK);
    const [header, ...rows] = listed.stdout.trimEnd().split('\n');
    expect(header).toBe('tenant\tconcurrency\tupdated\tby');
    expect(rows).toEqual([
      expect.stringMatching(/^acme\t2\t\d{4}-\d\d-\d\dT[\d:.]+Z\t-$/),
      expect.stringMatching(/^batch\t1\t\S+\t-$/),
    ]);
    expect((await run(['list', '--tenant', 'batch'])).stdout.trimEnd().split('\n')).toHaveLength(2);

    const removed = await run(['unlimit', '--tenant', 'acme']);
    expect(removed.code).toBe(EXIT_OK);
    expect(removed.stdout).toMatch(/^acme: 2 → none; runners fall back to RUNNER_TENANT_LIMITS or /);
    expect(await tenantLimitsCollection(mongo.db).countDocuments({ _id: 'acme' })).toBe(0);

    const again = await run(['unlimit', '--tenant', 'acme']);
    expect(again).toMatchObject({ code: EXIT_NOT_FOUND, stdout: '' });
    expect(again.stderr).toBe('tenants: no limit of tenant acme in tenant_limits\n');
    expect((await run(['list'])).stdout.trimEnd().split('\n')).toHaveLength(2);
  });

  it('refuses bad arguments with exit code 2 and the usage, writing nothing', async () => {
    for (const argv of [
      ['limit', '--tenant', 'globex'],
      ['limit', '--tenant', 'globex', '--concurrency', '10001'],
      ['limit', '--concurrency', '3'],
      ['unlimit'],
      ['list', 'x'],
      ['frobnicate'],
    ]) {
      const result = await run(argv);
      expect(result.code).toBe(EXIT_USAGE);
      expect(result.stderr).toContain('usage: npm run tenants');
    }
    expect(await tenantLimitsCollection(mongo.db).countDocuments({ _id: 'globex' })).toBe(0);
    expect(await run(['--help'])).toMatchObject({ code: EXIT_OK, stdout: expect.stringContaining('usage') });
  });

  it('exits 3 when MongoDB is not there', async () => {
    const result = await run(['list'], { MONGODB_URI: 'mongodb://127.0.0.1:1', MONGODB_DB: ns.database });
    expect(result.code).toBe(EXIT_FAILED);
    expect(result.stderr).toMatch(/^tenants: .*ECONNREFUSED/);
  });
});
