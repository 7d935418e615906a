import { runCaptured, testInfra, testNamespace } from '@jobline/libs/testing';
import { connectMongo, type MongoConnection } from '@jobline/libs';
import { EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE, runTokensCli } from './tokens-cli';
import { apiTokensCollection, createTokenStore, hashToken } from './tokens';

describe('npm run tokens', () => {
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

  function run(...argv: string[]) {
    return runCaptured((io) => runTokensCli(argv, env(), io));
  }

  it('creates, lists and revokes a token, storing only its hash', async () => {
    const created = await run('create', '--tenant', 'acme', '--name', 'deploy bot', '--rate', '10/s');
    expect(created.code).toBe(EXIT_OK);
    const token = /^token: (\S+)$/m.exec(created.stdout)?.[1];
    expect(token).toMatch(/^jl_[\w-]{43}$/);
    const id = created.stdout.split('\t')[0]!;

    const [doc] = await apiTokensCollection(mongo.db).find({ _id: id }).toArray();
    expect(doc).toMatchObject({ tenantId: 'acme', name: 'deploy bot', revokedAt: null });
    expect(doc!.rateLimit).toEqual({ points: 10, windowSeconds: 1 });
    expect(doc!.tokenHash).toBe(hashToken(token!));
    expect(JSON.stringify(doc)).not.toContain(token!);
    expect(await createTokenStore(apiTokensCollection(mongo.db)).find(token!)).toMatchObject({ id, tenantId: 'acme' });

    await run('create', '--tenant', 'other');
    const listed = await run('list', '--tenant', 'acme');
    expect(listed.code).toBe(EXIT_OK);
    const rows = listed.stdout.trim().split('\n').slice(1);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain(`${id}\tacme\tdeploy bot\t`);
    expect(rows[0]).toMatch(/\tactive\t10\/s$/);
    expect(listed.stdout).not.toContain(token!);
    expect((await run('list')).stdout.trim().split('\n')).toHaveLength(3);

    expect((await run('revoke', id)).code).toBe(EXIT_OK);
    expect((await run('list', '--tenant', 'acme')).stdout).toMatch(/\trevoked \S+\t10\/s/);
    expect(await createTokenStore(apiTokensCollection(mongo.db)).find(token!)).toBeUndefined();
    const again = await run('revoke', id);
    expect(again.code).toBe(EXIT_NOT_FOUND);
    expect(again.stderr).toContain(id);
  });

  it('refuses bad arguments with exit code 2 and the usage', async () => {
    for (const argv of [
      ['create'],
      ['create', '--tenant', 'a', '--rate', 'fast'],
      ['revoke'],
      ['list', 'x'],
      ['frobnicate'],
      ['list', '--rate', '1/s'],
    ]) {
      const result = await run(...argv);
      expect(result.code).toBe(EXIT_USAGE);
      expect(result.stderr).toContain('usage: npm run tokens');
    }
    expect(await run('--help')).toMatchObject({ code: EXIT_OK, stdout: expect.stringContaining('usage') });
  });
});
