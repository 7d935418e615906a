import { randomUUID } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { setTimeout } from 'node:timers/promises';
import {
  LIST_FIELDS,
  RECORD_FORMATS,
  RECORD_SCHEMAS,
  dataCollections,
  ensureDataIndexes,
  exportRecords,
  recordFromCsvRow,
  writeExport,
  type DataCollections,
  type ExportRequestInput,
  type RecordFormat,
  type Resource,
} from '@jobline/libs/data';
import { connectMongo, type MongoConnection } from '@jobline/libs/mongo';
import { testInfra, testNamespace, waitFor } from '@jobline/libs/testing';
import { importRecords } from './import-records';
import { parseRecords } from './parse-records';

// The export is the producer's too and lives in @jobline/libs/data; it is tested here, where the import engine can
// load what it reads and read back what it writes.
/** Collects what is written, as text. */
function sink() {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** The records of an export's text, whatever its format (CSV rows decoded as an import would). */
async function recordsOf(text: string, format: RecordFormat, resource: Resource) {
  const out: Record<string, unknown>[] = [];
  for await (const item of parseRecords(Readable.from([Buffer.from(text)]), format)) {
    if (!('record' in item)) throw new Error(`unreadable export at record ${item.index}: ${item.parseError}`);
    const record = item.record as Record<string, unknown>;
    // CSV has no empty strings apart from absent values: the schema's defaults put them back.
    out.push(
      format === 'csv'
        ? (RECORD_SCHEMAS[resource].parse(
            recordFromCsvRow(record as Record<string, string>, LIST_FIELDS[resource]),
          ) as Record<string, unknown>)
        : record,
    );
  }
  return out;
}

const byExternalId = (records: Record<string, unknown>[]) =>
  [...records].sort((a, b) => String(a.externalId).localeCompare(String(b.externalId)));

describe('exportRecords against MongoDB', () => {
  let mongo: MongoConnection;
  let c: DataCollections;
  const ns = testNamespace();
  const tenant = randomUUID();

  const users = Array.from({ length: 4 }, (_, n) => ({
    externalId: randomUUID(),
    username: `user${n}`,
    email: `user${n}@example.com`,
    ...(n % 2 === 0 ? { bio: `bio, with "quotes"\nand a second line ${n}` } : {}),
    ...(n === 1 ? { image: 'https://img.example/1.png' } : {}),
    createdAt: `2025-0${n + 1}-01T00:00:00.000Z`,
  }));
  const articles = Array.from({ length: 6 }, (_, n) => ({
    externalId: randomUUID(),
    authorExternalId: users[n % 2]!.externalId,
    slug: `article-${n}`,
    title: `Article ${n}`,
    description: n === 0 ? '' : `about ${n}`,
    body: `body ${n}, with a comma`,
    tagList: n % 3 === 0 ? [] : ['dragons', `tag;${n}`],
    createdAt: `2025-06-0${n + 1}T12:00:00.000Z`,
  }));
  const comments = Array.from({ length: 8 }, (_, n) => ({
    externalId: randomUUID(),
    articleExternalId: articles[n % 3]!.externalId,
    authorExternalId: users[(n + 1) % 4]!.externalId,
    body: `comment ${n}`,
    createdAt: `2025-07-0${n + 1}T08:30:00.000Z`,
  }));
  const dataset: Record<Resource, Record<string, unknown>[]> = { users, articles, comments };

  beforeAll(async () => {
    mongo = await connectMongo(testInfra().mongoUri, ns.database);
    c = dataCollections(mongo.db);
    await ensureDataIndexes(c);
    const text = [
      ...users.map((u) => ({ resource: 'users', ...u })),
      ...articles.map((a) => ({ resource: 'articles', ...a })),
      ...comments.map((x) => ({ resource: 'comments', ...x })),
    ]
      .map((r) => JSON.stringify(r))
      .join('\n');
    const result = await importRecords({
      collections: c,
      tenantId: tenant,
      importId: randomUUID(),
      resource: 'mixed',
      format: 'ndjson',
      input: Readable.from([Buffer.from(text)]),
    });
    expect(result).toMatchObject({ imported: 18, failed: 0 });
  });

  afterAll(async () => {
    await mongo.db.dropDatabase();
    await mongo.client.close();
  });

  const seed = (tenantId: string, resource: Resource) =>
    importRecords({
      collections: c,
      tenantId,
      importId: randomUUID(),
      resource,
      format: 'ndjson',
      input: Readable.from([Buffer.from(dataset[resource].map((r) => JSON.stringify(r)).join('\n'))]),
    });

  const exportText = async (tenantId: string, request: ExportRequestInput) => {
    const out = sink();
    const stats = await writeExport({ collections: c, tenantId, request }, out.stream);
    return { text: out.text(), stats };
  };

  describe.each(RECORD_FORMATS)('%s', (format) => {
    it.each(['users', 'articles', 'comments'] as const)(
      '%s round-trip: the import is exported as given, and importing the export elsewhere exports the same',
      async (resource) => {
        const first = await exportText(tenant, { resource, format });
        expect(first.stats.exported).toBe(dataset[resource].length);
        expect(byExternalId(await recordsOf(first.text, format, resource))).toEqual(byExternalId(dataset[resource]));

        // Into a tenant that has the related records already (relations are checked against them).
        const other = randomUUID();
        const dependencies = { users: [], articles: ['users'], comments: ['users', 'articles'] } as const;
        for (const dependency of dependencies[resource]) await seed(other, dependency);
        const reimport = await importRecords({
          collections: c,
          tenantId: other,
          importId: randomUUID(),
          resource,
          format,
          input: Readable.from([Buffer.from(first.text)]),
        });
        expect(reimport).toMatchObject({ imported: dataset[resource].length, failed: 0 });
        const second = await exportText(other, { resource, format });
        expect(byExternalId(await recordsOf(second.text, format, resource))).toEqual(
          byExternalId(await recordsOf(first.text, format, resource)),
        );
      },
    );
  });

  it('writes the asked fields in the asked order, filtered by relation, tag and createdAt range', async () => {
    const author = users[1]!.externalId;
    const { text } = await exportText(tenant, {
      resource: 'articles',
      format: 'csv',
      fields: ['title', 'tagList', 'externalId'],
      filters: { authorExternalId: author, tag: 'dragons', createdBefore: '2025-06-06T00:00:00Z' },
    });
    // Articles 1, 3 and 5 are by users[1]; 3 has no tags; 5 is too recent.
    expect(text).toBe(`title,tagList,externalId\r\nArticle 1,"[""dragons"",""tag;1""]",${articles[1]!.externalId}\r\n`);

    const range = await exportText(tenant, {
      resource: 'comments',
      format: 'json',
      fields: ['externalId'],
      filters: {
        createdAfter: '2025-07-03T08:30:00Z',
        createdBefore: '2025-07-05T08:30:00Z',
        articleExternalId: articles[0]!.externalId,
      },
    });
    expect(JSON.parse(range.text)).toEqual([{ externalId: comments[3]!.externalId }]);

    const none = await exportText(tenant, {
      resource: 'users',
      format: 'json',
      filters: { email: 'nobody@example.com' },
    });
    expect(none.text).toBe('[]\n');
    const one = await exportText(tenant, {
      resource: 'users',
      format: 'ndjson',
      filters: { username: 'user2' },
      fields: ['email'],
    });
    expect(one.text).toBe('{"email":"user2@example.com"}\n');
  });

  describe('records that name their UUID `id` and their relations `author_id`, `article_id`', () => {
    const apiTenant = randomUUID();
    const apiUsers = users.map(({ externalId, ...rest }) => ({ id: externalId, ...rest }));
    const apiArticles = articles.map(({ externalId, authorExternalId, ...rest }, n) => ({
      id: externalId,
      author_id: authorExternalId,
      ...rest,
      description: `about ${n}`,
      status: n % 2 === 0 ? 'published' : 'draft',
    }));
    const apiComments = comments.map(({ externalId, articleExternalId, authorExternalId, ...rest }) => ({
      id: externalId,
      article_id: articleExternalId,
      author_id: authorExternalId,
      ...rest,
    }));
    const apiDataset: Record<Resource, Record<string, unknown>[]> = {
      users: apiUsers,
      articles: apiArticles,
      comments: apiComments,
    };
    const fieldsOf = (resource: Resource) => [...new Set(apiDataset[resource].flatMap((r) => Object.keys(r)))];

    const load = async (tenantId: string, resource: Resource, format: RecordFormat, text: string) =>
      importRecords({
        collections: c,
        tenantId,
        importId: randomUUID(),
        resource,
        format,
        input: Readable.from([Buffer.from(text)]),
      });
    /** The records of an export in the names it was asked for (CSV cells decoded as an import would). */
    const asWritten = async (text: string, format: RecordFormat, resource: Resource) => {
      const out: Record<string, unknown>[] = [];
      for await (const item of parseRecords(Readable.from([Buffer.from(text)]), format)) {
        if (!('record' in item)) throw new Error(`unreadable export at record ${item.index}: ${item.parseError}`);
        const record = item.record as Record<string, string>;
        out.push(format === 'csv' ? recordFromCsvRow(record, LIST_FIELDS[resource]) : record);
      }
      return out.sort((a, b) => String(a.id).localeCompare(String(b.id)));
    };
    const byId = (records: Record<string, unknown>[]) =>
      [...records].sort((a, b) => String(a.id).localeCompare(String(b.id)));

    beforeAll(async () => {
      for (const resource of ['users', 'articles', 'comments'] as const) {
        const text = apiDataset[resource].map((r) => JSON.stringify(r)).join('\n');
        expect(await load(apiTenant, resource, 'ndjson', text)).toMatchObject({
          imported: apiDataset[resource].length,
          failed: 0,
        });
      }
    });

    describe.each(RECORD_FORMATS)('%s', (format) => {
      it.each(['users', 'articles', 'comments'] as const)(
        '%s: exported under the names asked, they are the records imported; imported again elsewhere, the same',
        async (resource) => {
          const fields = fieldsOf(resource);
          const first = await exportText(apiTenant, { resource, format, fields } as ExportRequestInput);
          expect(await asWritten(first.text, format, resource)).toEqual(byId(apiDataset[resource]));

          const other = randomUUID();
          const dependencies = { users: [], articles: ['users'], comments: ['users', 'articles'] } as const;
          for (const dependency of dependencies[resource]) {
            const text = apiDataset[dependency].map((r) => JSON.stringify(r)).join('\n');
            await load(other, dependency, 'ndjson', text);
          }
          expect(await load(other, resource, format, first.text)).toMatchObject({
            imported: apiDataset[resource].length,
            failed: 0,
          });
          const second = await exportText(other, { resource, format, fields } as ExportRequestInput);
          expect(await asWritten(second.text, format, resource)).toEqual(byId(apiDataset[resource]));

          // Exported in jobline's own names, they import all the same.
          const plain = await exportText(apiTenant, { resource, format });
          expect(await load(other, resource, format, plain.text)).toMatchObject({
            imported: apiDataset[resource].length,
            failed: 0,
          });
        },
      );
    });

    it('filters by status and by author under either name; an alias contradicting its field is refused', async () => {
      const published = await exportText(apiTenant, {
        resource: 'articles',
        format: 'json',
        filters: { status: 'published' },
        fields: ['id', 'title', 'slug'],
      });
      expect(byId(JSON.parse(published.text) as Record<string, unknown>[])).toEqual(
        byId(apiArticles.filter((a) => a.status === 'published').map(({ id, title, slug }) => ({ id, title, slug }))),
      );

      const author = apiUsers[1]!.id;
      const mine = apiArticles.filter((a) => a.author_id === author).map((a) => ({ id: a.id, author_id: author }));
      for (const filters of [
        { authorId: author },
        { author_id: author },
        { authorExternalId: author, authorId: author },
      ]) {
        const { text } = await exportText(apiTenant, {
          resource: 'articles',
          format: 'json',
          filters,
          fields: ['id', 'author_id'],
        });
        expect(byId(JSON.parse(text) as Record<string, unknown>[])).toEqual(byId(mine));
      }
      const onArticle = await exportText(apiTenant, {
        resource: 'comments',
        format: 'ndjson',
        filters: { articleId: apiArticles[0]!.id },
        fields: ['id'],
      });
      expect(onArticle.stats.exported).toBe(apiComments.filter((x) => x.article_id === apiArticles[0]!.id).length);

      expect(() =>
        exportRecords({
          collections: c,
          tenantId: apiTenant,
          request: { resource: 'articles', filters: { authorId: author, authorExternalId: apiUsers[0]!.id } },
        }),
      ).toThrow(
        expect.objectContaining({
          code: 'VALIDATION_FAILED',
          details: [expect.objectContaining({ field: 'filters.authorId' })],
        }),
      );
    });
  });

  it('refuses operators, unknown filters and unknown fields before reading anything', () => {
    const attempt = (request: unknown) => () =>
      exportRecords({ collections: c, tenantId: tenant, request: request as ExportRequestInput });
    expect(attempt({ resource: 'users', filters: { email: { $ne: null } } })).toThrow(
      expect.objectContaining({
        code: 'VALIDATION_FAILED',
        details: [expect.objectContaining({ field: 'filters.email' })],
      }),
    );
    expect(attempt({ resource: 'users', filters: { $where: 'true' } })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    expect(attempt({ resource: 'users', filters: { tenantId: 'someone-else' } })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    expect(attempt({ resource: 'users', fields: ['password'] })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    expect(attempt({ resource: 'users', format: 'xml' })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    expect(attempt({ resource: 'tags' })).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });

  it('reads from MongoDB only as fast as the consumer takes the bytes', async () => {
    const bulkTenant = randomUUID();
    const lines = Array.from({ length: 3000 }, (_, n) =>
      JSON.stringify({
        externalId: randomUUID(),
        username: `bulk${n}`,
        email: `bulk${n}@example.com`,
        bio: 'x'.repeat(100),
      }),
    );
    await importRecords({
      collections: c,
      tenantId: bulkTenant,
      importId: randomUUID(),
      resource: 'users',
      format: 'ndjson',
      input: Readable.from([Buffer.from(lines.join('\n'))]),
    });
    const run = exportRecords({ collections: c, tenantId: bulkTenant, request: { resource: 'users' }, pageSize: 100 });
    // Nobody reads yet: the stream fills its buffer (about one page) and stops asking for more. That nothing more
    // happens can only be seen by giving it time to.
    run.stream.read(0);
    await waitFor(() => run.stats().exported > 0, { description: 'the first page' });
    await setTimeout(300);
    expect(run.stats().exported).toBeLessThanOrEqual(300);

    let bytes = 0;
    for await (const chunk of run.stream) bytes += (chunk as Buffer).length;
    expect(run.stats().exported).toBe(3000);
    expect(bytes).toBeGreaterThan(3000 * 100);
  });
});
