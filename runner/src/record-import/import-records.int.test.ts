import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  dataCollections,
  ensureDataIndexes,
  internalId,
  readImportReport,
  type DataCollections,
  type ImportTarget,
  type RecordFormat,
} from '@jobline/libs/data';
import { connectMongo, type MongoConnection } from '@jobline/libs/mongo';
import { testInfra, testNamespace } from '@jobline/libs/testing';
import { importRecords, type ImportOptions, type ImportProgress } from './import-records';

const T0 = new Date('2026-03-01T12:00:00.000Z');

const user = (n: number, extra: Record<string, unknown> = {}) => ({
  externalId: randomUUID(),
  username: `user${n}`,
  email: `user${n}@example.com`,
  ...extra,
});

const ndjson = (records: unknown[]) => records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n');

/** The input as a stream of small chunks, as a network or file stream would deliver it. */
function input(text: string): Readable {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 100) chunks.push(bytes.subarray(i, i + 100));
  return Readable.from(chunks, { objectMode: false });
}

describe('importRecords against MongoDB', () => {
  let mongo: MongoConnection;
  let c: DataCollections;
  const ns = testNamespace();

  beforeAll(async () => {
    mongo = await connectMongo(testInfra().mongoUri, ns.database);
    c = dataCollections(mongo.db);
    await ensureDataIndexes(c);
  });

  afterAll(async () => {
    await mongo.db.dropDatabase();
    await mongo.client.close();
  });

  const run = (
    tenantId: string,
    resource: ImportTarget,
    format: RecordFormat,
    text: string,
    options: Partial<ImportOptions> = {},
  ) =>
    importRecords({
      collections: c,
      tenantId,
      importId: randomUUID(),
      resource,
      format,
      input: input(text),
      now: () => T0,
      ...options,
    });

  const errorsOf = async (tenantId: string, importId: string) =>
    (await readImportReport(c, tenantId, importId))!.errors.map((e) => [e.recordIndex, e.code, e.line]);

  it('NDJSON: a bad JSON line and a schema-invalid line are errors of their own; the rest is imported', async () => {
    const tenant = randomUUID();
    const [a, b, d] = [user(1), user(2, { bio: 'hi', image: 'https://img.example/2.png' }), user(4)];
    const text = ndjson([a, '{"externalId": "broken', '', b, { ...user(3), email: 'not-an-email' }, d]);
    const importId = randomUUID();
    const result = await run(tenant, 'users', 'ndjson', text, { importId });

    expect(result).toMatchObject({ processed: 5, imported: 3, failed: 2, errorRate: 0.4, resumedAfter: null });
    expect(await errorsOf(tenant, importId)).toEqual([
      [1, 'PARSE_ERROR', 2],
      [3, 'VALIDATION_FAILED', 5],
    ]);
    const report = await readImportReport(c, tenant, importId);
    expect(report!.errors[0]!.record).toBe('{"externalId": "broken');
    expect(report!.errors[1]).toMatchObject({
      details: [{ field: 'email' }],
      record: { email: 'not-an-email', username: 'user3' },
    });
    expect(report).toMatchObject({ processed: 5, imported: 3, failed: 2, completedAt: T0.toISOString() });
    const stored = await c.records.users.find({ tenantId: tenant }).sort({ username: 1 }).toArray();
    expect(stored.map((u) => [u._id, u.externalId, u.username])).toEqual(
      [a, b, d].map((u) => [internalId(tenant, 'users', u.externalId), u.externalId, u.username]),
    );
    expect(stored[1]).toMatchObject({ bio: 'hi', image: 'https://img.example/2.png', createdAt: T0 });
  });

  it('CSV: BOM, quoted commas, an embedded line break and list cells; a short row and an invalid id fail', async () => {
    const tenant = randomUUID();
    const author = user(1);
    await run(tenant, 'users', 'ndjson', ndjson([author]));
    const [a1, a2, a3] = [randomUUID(), randomUUID(), randomUUID()];
    const csv = [
      '\uFEFFexternalId,authorExternalId,slug,title,description,body,tagList',
      `${a1},${author.externalId},first,"Dragons, and how to train them",short,"line one`,
      `line two",dragons; training`,
      `${a2},${author.externalId},second,Second,"",body,"[""a;b"",""c""]"`,
      `${a3},${author.externalId},third,Third`,
      `not-a-uuid,${author.externalId},fourth,Fourth,d,b,`,
      '',
    ].join('\r\n');
    const importId = randomUUID();
    const result = await run(tenant, 'articles', 'csv', csv, { importId });

    expect(result).toMatchObject({ processed: 4, imported: 2, failed: 2 });
    expect(await errorsOf(tenant, importId)).toEqual([
      [2, 'PARSE_ERROR', 5],
      [3, 'VALIDATION_FAILED', 6],
    ]);
    const first = await c.records.articles.findOne({ tenantId: tenant, externalId: a1 });
    expect(first).toMatchObject({
      title: 'Dragons, and how to train them',
      body: 'line one\r\nline two',
      tagList: ['dragons', 'training'],
      authorId: internalId(tenant, 'users', author.externalId),
    });
    expect(first).not.toHaveProperty('authorExternalId');
    const second = await c.records.articles.findOne({ tenantId: tenant, externalId: a2 });
    expect(second).toMatchObject({ description: '', tagList: ['a;b', 'c'] });
  });

  it('JSON array: a wrong-typed item and wrong-typed fields fail validation, an unknown author the relation check', async () => {
    const tenant = randomUUID();
    const author = user(1);
    await run(tenant, 'users', 'ndjson', ndjson([author]));
    const article = (slug: string, extra: Record<string, unknown> = {}) => ({
      externalId: randomUUID(),
      authorExternalId: author.externalId,
      slug,
      title: slug,
      description: 'd',
      body: 'b',
      tagList: ['t'],
      createdAt: '2025-05-05T10:00:00+02:00',
      ...extra,
    });
    const items = [
      article('one'),
      42,
      article('two', { tagList: 'not-a-list' }),
      article('three', { authorExternalId: randomUUID() }),
      article('four'),
    ];
    const importId = randomUUID();
    const result = await run(tenant, 'articles', 'json', JSON.stringify(items, null, 2), { importId });

    expect(result).toMatchObject({ processed: 5, imported: 2, failed: 3 });
    expect(await errorsOf(tenant, importId)).toEqual([
      [1, 'VALIDATION_FAILED', null],
      [2, 'VALIDATION_FAILED', null],
      [3, 'RELATION_NOT_FOUND', null],
    ]);
    const report = await readImportReport(c, tenant, importId);
    expect(report!.errors.map((e) => e.details.map((d) => d.field))).toEqual([
      ['(record)'],
      ['tagList'],
      ['authorExternalId'],
    ]);
    const one = await c.records.articles.findOne({ tenantId: tenant, slug: 'one' });
    expect(one!.createdAt).toEqual(new Date('2025-05-05T08:00:00.000Z'));
  });

  it('records that name their UUID `id` and their relations `author_id`, `articleId`, ... import as they are', async () => {
    const tenant = randomUUID();
    const users = Array.from({ length: 100 }, (_, n) => {
      const { externalId, ...rest } = user(n);
      return { id: externalId, ...rest };
    });
    const usersImport = randomUUID();
    expect(await run(tenant, 'users', 'ndjson', ndjson(users), { importId: usersImport })).toMatchObject({
      processed: 100,
      imported: 100,
      failed: 0,
    });
    const stored = await c.records.users.findOne({ _id: internalId(tenant, 'users', users[7]!.id) });
    expect(stored).toMatchObject({ externalId: users[7]!.id, username: 'user7' });
    expect(stored).not.toHaveProperty('id');

    const [a1, a2, a3] = [randomUUID(), randomUUID(), randomUUID()];
    const csv = [
      'id,author_id,slug,title,body,status',
      `${a1},${users[0]!.id},first,First,b,published`,
      `${a2},${users[1]!.id},second,Second,b,draft`,
      `${a3},${randomUUID()},third,Third,b,published`,
      `not-a-uuid,${users[0]!.id},fourth,Fourth,b,`,
      '',
    ].join('\n');
    const articlesImport = randomUUID();
    expect(await run(tenant, 'articles', 'csv', csv, { importId: articlesImport })).toMatchObject({
      imported: 2,
      failed: 2,
    });
    expect(await c.records.articles.findOne({ tenantId: tenant, externalId: a1 })).toMatchObject({
      authorId: internalId(tenant, 'users', users[0]!.id),
      status: 'published',
    });

    const comments = [
      { id: randomUUID(), article_id: a1, author_id: users[2]!.id, body: 'snake' },
      { id: randomUUID(), articleId: a2, authorId: users[3]!.id, body: 'camel' },
      { id: randomUUID(), articleId: a1, articleExternalId: a2, authorId: users[3]!.id, body: 'which article?' },
    ];
    const commentsImport = randomUUID();
    expect(await run(tenant, 'comments', 'ndjson', ndjson(comments), { importId: commentsImport })).toMatchObject({
      imported: 2,
      failed: 1,
    });

    // Problems name the fields as the file did.
    const fieldsOf = async (importId: string) =>
      (await readImportReport(c, tenant, importId))!.errors.map((e) => [e.code, e.details.map((d) => d.field)]);
    expect(await fieldsOf(articlesImport)).toEqual([
      ['RELATION_NOT_FOUND', ['author_id']],
      ['VALIDATION_FAILED', ['id']],
    ]);
    expect(await fieldsOf(commentsImport)).toEqual([['VALIDATION_FAILED', ['articleId']]]);
  });

  it('a relation holds to a record earlier in the same file, not to a later one nor to an unknown one', async () => {
    const tenant = randomUUID();
    const author = user(1);
    const early = {
      externalId: randomUUID(),
      authorExternalId: author.externalId,
      slug: 'early',
      title: 'E',
      description: '',
      body: 'b',
    };
    const late = { ...early, externalId: randomUUID(), slug: 'late' };
    const comment = (articleExternalId: string) => ({
      resource: 'comments',
      externalId: randomUUID(),
      articleExternalId,
      authorExternalId: author.externalId,
      body: 'nice',
    });
    const records = [
      { resource: 'users', ...author },
      { resource: 'articles', ...early },
      comment(early.externalId),
      comment(randomUUID()),
      comment(late.externalId),
      { resource: 'articles', ...late },
      comment(late.externalId),
      { resource: 'tags', externalId: randomUUID() },
    ];
    // Batches of 1, 2 and 3 put "earlier" both in an earlier batch and in the same one.
    for (const batchSize of [1, 2, 3]) {
      const t = `${tenant}-${batchSize}`;
      const importId = randomUUID();
      const result = await run(t, 'mixed', 'ndjson', ndjson(records), { importId, batchSize });
      expect(result).toMatchObject({ processed: 8, imported: 5, failed: 3 });
      expect(await errorsOf(t, importId)).toEqual([
        [3, 'RELATION_NOT_FOUND', 4],
        [4, 'RELATION_NOT_FOUND', 5],
        [7, 'VALIDATION_FAILED', 8],
      ]);
      expect(await c.records.comments.countDocuments({ tenantId: t })).toBe(2);
    }

    // A comments-only import checks against what is stored.
    const importId = randomUUID();
    const result = await run(
      `${tenant}-1`,
      'comments',
      'ndjson',
      ndjson([comment(late.externalId), comment(randomUUID())].map(({ resource: _r, ...c }) => c)),
      {
        importId,
      },
    );
    expect(result).toMatchObject({ processed: 2, imported: 1, failed: 1 });
    const [error] = (await readImportReport(c, `${tenant}-1`, importId))!.errors;
    expect(error).toMatchObject({
      recordIndex: 1,
      code: 'RELATION_NOT_FOUND',
      details: [{ field: 'articleExternalId' }],
    });
  });

  it('upserts by external id: a second import updates, unsets what it no longer gives, and adds nothing', async () => {
    const tenant = randomUUID();
    const u = user(1, { bio: 'first' });
    await run(tenant, 'users', 'ndjson', ndjson([u, user(2)]));
    const later = new Date(T0.getTime() + 60_000);
    await run(tenant, 'users', 'ndjson', ndjson([{ ...u, bio: undefined, username: 'renamed' }]), { now: () => later });
    expect(await c.records.users.countDocuments({ tenantId: tenant })).toBe(2);
    const stored = await c.records.users.findOne({ tenantId: tenant, externalId: u.externalId });
    expect(stored).toMatchObject({ username: 'renamed', createdAt: T0, updatedAt: later });
    expect(stored).not.toHaveProperty('bio');
  });

  it('reports progress per batch, and keeps every error while the report shows the first 100', async () => {
    const tenant = randomUUID();
    const records = Array.from({ length: 250 }, (_, n) => (n % 2 === 0 ? user(n) : { ...user(n), email: 'nope' }));
    const progress: ImportProgress[] = [];
    const importId = randomUUID();
    const result = await run(tenant, 'users', 'ndjson', ndjson(records), {
      importId,
      batchSize: 50,
      progressIntervalMs: 0,
      onProgress: (p) => progress.push(p),
      now: () => new Date(),
    });
    expect(result).toMatchObject({ processed: 250, imported: 125, failed: 125 });
    expect(progress.map((p) => p.processed)).toEqual([50, 100, 150, 200, 250, 250]);
    expect(progress.at(-1)).toMatchObject({ imported: 125, failed: 125, errorRate: 0.5 });
    expect(progress.at(-1)!.rowsPerSecond).toBeGreaterThan(0);
    expect(await c.importErrors.countDocuments({ importId })).toBe(125);
    const report = await readImportReport(c, tenant, importId);
    expect(report!.errors.map((e) => e.recordIndex)).toEqual(Array.from({ length: 100 }, (_, i) => 2 * i + 1));
    expect(await readImportReport(c, 'another-tenant', importId)).toBeNull();
  });

  describe('resume', () => {
    const records = Array.from({ length: 50 }, (_, n) => (n % 7 === 3 ? { ...user(n), email: 'bad' } : user(n)));
    const invalid = records.filter((r) => r.email === 'bad').length;

    it('an aborted import resumes from its checkpoint: no duplicates, counts of the whole file', async () => {
      const tenant = randomUUID();
      const importId = randomUUID();
      const controller = new AbortController();
      // Aborted once 20 records are written; the batch being read then is dropped, not written.
      const stopAfter20 = (p: ImportProgress) => {
        if (p.processed >= 20) controller.abort(new Error('stopped for the test'));
      };
      await expect(
        run(tenant, 'users', 'ndjson', ndjson(records), {
          importId,
          batchSize: 10,
          signal: controller.signal,
          onProgress: stopAfter20,
          progressIntervalMs: 0,
        }),
      ).rejects.toThrow('stopped for the test');
      const checkpoint = await c.importCheckpoints.findOne({ _id: importId });
      expect(checkpoint).toMatchObject({ lastIndex: 19, processed: 20, completedAt: null });
      expect(await c.records.users.countDocuments({ tenantId: tenant })).toBe(checkpoint!.imported);

      const result = await run(tenant, 'users', 'ndjson', ndjson(records), { importId, batchSize: 10 });
      expect(result).toMatchObject({
        processed: 50,
        imported: 50 - invalid,
        failed: invalid,
        resumedAfter: checkpoint!.lastIndex,
      });
      expect(await c.records.users.countDocuments({ tenantId: tenant })).toBe(50 - invalid);
      expect(await c.importErrors.countDocuments({ importId })).toBe(invalid);

      // Once complete, running it again reads nothing and changes nothing.
      const again = await run(tenant, 'users', 'ndjson', ndjson(records), { importId, batchSize: 10 });
      expect(again).toMatchObject({ processed: 50, imported: 50 - invalid, failed: invalid });
    });

    it('a crash after a batch was written but before its checkpoint rewrites that batch without duplicates', async () => {
      const tenant = randomUUID();
      const importId = randomUUID();
      await run(tenant, 'users', 'ndjson', ndjson(records), { importId, batchSize: 10 });
      // What a crash leaves: everything written, the checkpoint two batches back (its counts match its index).
      const firstTwenty = records.slice(0, 20);
      const failedBefore = firstTwenty.filter((r) => r.email === 'bad').length;
      await c.importCheckpoints.updateOne(
        { _id: importId },
        {
          $set: { lastIndex: 19, processed: 20, imported: 20 - failedBefore, failed: failedBefore, completedAt: null },
        },
      );

      const result = await run(tenant, 'users', 'ndjson', ndjson(records), { importId, batchSize: 10 });
      expect(result).toMatchObject({ processed: 50, imported: 50 - invalid, failed: invalid, resumedAfter: 19 });
      expect(await c.records.users.countDocuments({ tenantId: tenant })).toBe(50 - invalid);
      expect(await c.importErrors.countDocuments({ importId })).toBe(invalid);
    });

    it('refuses to resume an import as another resource or format', async () => {
      const tenant = randomUUID();
      const importId = randomUUID();
      await run(tenant, 'users', 'ndjson', ndjson(records.slice(0, 3)), { importId });
      await expect(run(tenant, 'users', 'csv', 'a\n1\n', { importId })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
        retryable: false,
      });
    });
  });

  it('a JSON syntax error ends the import: what came before is imported, the break is an error of its own', async () => {
    const tenant = randomUUID();
    const importId = randomUUID();
    const text = `[${JSON.stringify(user(1))},${JSON.stringify(user(2))},{"externalId":`;
    await expect(run(tenant, 'users', 'json', text, { importId })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      retryable: false,
      message: expect.stringContaining('record 2'),
    });
    const report = await readImportReport(c, tenant, importId);
    expect(report).toMatchObject({ processed: 3, imported: 2, failed: 1, completedAt: null });
    expect(report!.inputError).toMatch(/malformed JSON/);
    expect(report!.errors.map((e) => [e.recordIndex, e.code])).toEqual([[2, 'PARSE_ERROR']]);
  });
});
