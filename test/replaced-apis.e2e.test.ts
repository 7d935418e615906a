import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JobView } from '@jobline/libs';
import { readJson, testNamespace } from '@jobline/libs/testing';
import { curlCommands, sendCurl, type CurlCommand } from './curl-command';
import { startHttpReceiver, type HttpReceiver } from './http-receiver';
import { settledView } from './job-settled';
import {
  BOOK_EXPORT,
  BULK_DATA_EXPORT_ARTICLES,
  BULK_DATA_IMPORT_ORDER,
  BULK_DATA_IMPORT_USERS,
  CREATE_TIMER_BODY,
} from './replaced-api-examples';
import { startJobline, type Jobline } from './service-process';

/**
 * The documented requests of the services jobline takes over, sent as written (`replaced-api-examples.ts`). What is
 * adapted: where the API answers (`http://localhost:3000` becomes the test's producer, and a gateway's or a service's
 * own path prefix, `/api/receptionist/exports` and `/api/v1/timer`, jobline's `/v1/exports` and `/v1/timers`), the
 * token (`<token>`; the book export's example sends none, and gets one), the ids the examples make up for the jobs
 * they created (`123`, `456`), and the hosts they send jobline to (`example.com`, the timer's webhook), which become
 * servers of the test's own.
 */
const TOKEN = 'bulk-token';
const AUTH = { authorization: `Token ${TOKEN}` };

interface ImportView extends JobView {
  job_id: string;
  resource: string | null;
  totalRecords: number | null;
  successCount: number | null;
  errorCount: number | null;
  errors: { recordIndex: number; errorMessage: string; errorType: string; recordData: unknown }[] | null;
  completedAt: string | null;
  report: { processed: number; imported: number; failed: number } | null;
}
interface ExportView extends JobView {
  job_id: string;
  downloadUrl: string | null;
}

// The files the examples upload, in the API's record shape: the record's UUID as `id`, relations as `author_id` and
// `article_id`, an article's `status`.
const users = Array.from({ length: 4 }, (_, n) => ({
  id: randomUUID(),
  username: `writer${n}`,
  email: `writer${n}@example.com`,
  bio: `writes about ${n}`,
}));
const invalidUser = { id: randomUUID(), username: 'nobody', email: 'not-an-email' };
const articles = ['published', 'draft', 'published'].map((status, n) => ({
  id: randomUUID(),
  author_id: users[n]!.id,
  slug: `how-to-${n}`,
  title: `How to ${n}`,
  description: `the ${n}th`,
  body: `Step ${n}.`,
  tagList: ['howto'],
  status,
}));
const comments = articles.slice(0, 2).map((article, n) => ({
  id: randomUUID(),
  article_id: article.id,
  author_id: users[3 - n]!.id,
  body: `thanks for ${article.slug}`,
}));
const ndjson = (records: unknown[]) => `${records.map((r) => JSON.stringify(r)).join('\n')}\n`;
const FILES = {
  'users.ndjson': ndjson([users[0], users[1], invalidUser, users[2], users[3]]),
  'articles.ndjson': ndjson(articles),
  'comments.ndjson': ndjson(comments),
};

const byKey = (key: string) => (records: Record<string, unknown>[]) =>
  [...records].sort((a, b) => String(a[key]).localeCompare(String(b[key])));
const lines = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('requests written for the services jobline takes over, sent as their documentation writes them', () => {
  const ns = testNamespace();
  let jobline: Jobline;
  let base: string;
  let files: Server;
  let filesUrl: string;
  let receiver: HttpReceiver;
  const blobDir = `/tmp/jobline-blobs-${ns.database}`;

  /** Sends a documented curl command to the test's producer, with the test's token where it has `<token>`. */
  const send = (command: CurlCommand, adapt: (url: string) => string = (url) => url, headers = {}) =>
    sendCurl(
      {
        ...command,
        headers: Object.fromEntries(Object.entries(command.headers).map(([k, v]) => [k, v.replace('<token>', TOKEN)])),
      },
      adapt(command.url.replace(/^http:\/\/localhost:\d+/, base)),
      headers,
      FILES,
    );
  const settled = <T extends JobView>(path: string, headers: Record<string, string> = AUTH) =>
    settledView<T>(`${base}${path}`, headers, 60_000);

  beforeAll(async () => {
    files = createServer((req, res) => {
      const content = FILES[(req.url ?? '').slice(1) as keyof typeof FILES];
      res.writeHead(content === undefined ? 404 : 200, { 'content-type': 'application/x-ndjson' }).end(content);
    });
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
    receiver = await startHttpReceiver(() => ({ status: 200 }));
    jobline = await startJobline(ns, {
      API_TOKENS: `${TOKEN}:bulk-tenant,copy-token:copy-tenant`,
      BLOB_DIR: blobDir,
      // The test's file server and webhook receiver are on loopback, which jobline may reach only when allowed.
      OUTBOUND_ALLOWLIST: '127.0.0.1/32',
    });
    base = jobline.base;
  });

  afterAll(async () => {
    await jobline.stop();
    await receiver.close();
    await new Promise<void>((resolve) => files.close(() => resolve()));
    await rm(blobDir, { recursive: true, force: true });
  });

  it('imports users with `id` UUIDs from an upload and from a URL, and reports them in the API’s names', async () => {
    const [upload, fromUrl, status] = curlCommands(BULK_DATA_IMPORT_USERS) as [CurlCommand, CurlCommand, CurlCommand];

    const accepted = await send(upload);
    expect(accepted.status).toBe(202);
    const job = (await readJson(accepted)) as ImportView;
    expect(job.job_id).toBe(job.id);
    await settled(`/v1/imports/${job.job_id}`);

    const res = await send(status, (url) => url.replace('/v1/imports/123', `/v1/imports/${job.job_id}`));
    expect(res.status).toBe(200);
    const done = (await readJson(res)) as ImportView;
    expect(done).toMatchObject({
      job_id: job.id,
      status: 'completed',
      resource: 'users',
      totalRecords: 5,
      successCount: 4,
      errorCount: 1,
      errors: [
        {
          recordIndex: 2,
          errorMessage: expect.stringContaining('email') as unknown,
          errorType: 'VALIDATION_FAILED',
          recordData: invalidUser,
        },
      ],
      completedAt: expect.any(String) as unknown,
      startedAt: expect.any(String) as unknown,
      // jobline's own report is still there.
      report: { processed: 5, imported: 4, failed: 1 },
    });

    const byUrl = await send({
      ...fromUrl,
      data: fromUrl.data!.replace('https://example.com', filesUrl),
    });
    expect(byUrl.status).toBe(202);
    const fetched = await settled<ImportView>(`/v1/imports/${((await readJson(byUrl)) as ImportView).job_id}`);
    expect(fetched).toMatchObject({ status: 'completed', totalRecords: 5, successCount: 4, errorCount: 1 });
  });

  it('imports users, articles and comments in the documented order, exports articles as documented; the exports import again', async () => {
    // Records read, imported and rejected: users.ndjson holds one user with an invalid email.
    const counts = [
      [5, 4, 1],
      [3, 3, 0],
      [2, 2, 0],
    ];
    for (const [i, command] of curlCommands(BULK_DATA_IMPORT_ORDER).entries()) {
      const res = await send(command);
      expect(res.status).toBe(202);
      const done = await settled<ImportView>(`/v1/imports/${((await readJson(res)) as ImportView).job_id}`);
      expect([done.status, done.totalRecords, done.successCount, done.errorCount]).toEqual([
        'completed',
        ...counts[i]!,
      ]);
    }

    const [stream, create, download] = curlCommands(BULK_DATA_EXPORT_ARTICLES) as [
      CurlCommand,
      CurlCommand,
      CurlCommand,
    ];
    // A shell would run the stream example's unquoted `&` as two commands; the URL is what it means.
    const streamed = await send(stream);
    expect(streamed.status).toBe(200);
    expect(streamed.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    // In jobline's own names, which `fields` would change; `createdAt` is when the import wrote them.
    const exported = lines(await streamed.text());
    expect(byKey('externalId')(exported)).toEqual(
      byKey('externalId')(
        articles.map(({ id, author_id, ...rest }) => ({
          externalId: id,
          authorExternalId: author_id,
          ...rest,
          createdAt: expect.any(String) as unknown,
        })),
      ),
    );

    const created = await send(create);
    expect(created.status).toBe(202);
    const job = (await readJson(created)) as ExportView;
    expect((await settled<ExportView>(`/v1/exports/${job.job_id}`)).status).toBe('completed');
    const file = await send(download, (url) => url.replace('/v1/exports/456/', `/v1/exports/${job.job_id}/`));
    expect(file.status).toBe(200);
    expect(byKey('id')(JSON.parse(await file.text()) as Record<string, unknown>[])).toEqual(
      byKey('id')(articles.filter((a) => a.status === 'published').map(({ id, title, slug }) => ({ id, title, slug }))),
    );

    // Exported in jobline's names or the API's, the records import elsewhere as they are: the same, no errors.
    const COPY = { authorization: 'Bearer copy-token' };
    const fields = { users: 'id,username,email,bio', articles: '', comments: 'id,article_id,author_id,body' };
    for (const resource of ['users', 'articles', 'comments'] as const) {
      const query = `resource=${resource}&format=ndjson${fields[resource] ? `&fields=${fields[resource]}` : ''}`;
      const original = await (await fetch(`${base}/v1/exports?${query}`, { headers: AUTH })).text();
      const form = new FormData();
      form.append('file', new Blob([original]), `${resource}.ndjson`);
      const res = await fetch(`${base}/v1/imports?resource=${resource}`, { method: 'POST', headers: COPY, body: form });
      const done = await settled<ImportView>(`/v1/imports/${((await readJson(res)) as ImportView).job_id}`, COPY);
      expect([resource, done.status, done.errorCount, done.successCount]).toEqual([
        resource,
        'completed',
        0,
        lines(original).length,
      ]);
      const copy = await (await fetch(`${base}/v1/exports?${query}`, { headers: COPY })).text();
      const key = fields[resource] ? 'id' : 'externalId';
      expect(byKey(key)(lines(copy))).toEqual(byKey(key)(lines(original)));
    }
  });

  it('exports a book asked for as `{bookId, type}`: one that does not exist fails its job, an imported one is written', async () => {
    const [command] = curlCommands(BOOK_EXPORT) as [CurlCommand];
    const adapt = (url: string) => url.replace('/api/receptionist/exports', '/v1/exports');

    const accepted = await send(command, adapt, AUTH);
    expect(accepted.status).toBe(202);
    const missing = (await readJson(accepted)) as ExportView;
    expect(missing.type).toBe('book.export');
    const failed = await settled<ExportView>(`/v1/exports/${missing.job_id}`);
    expect([failed.status, failed.error?.message, failed.downloadUrl]).toEqual(['failed', 'no book 123', null]);

    const manuscript = new FormData();
    manuscript.append('file', new Blob(['# A Book\n\n## One\n\nText.\n'], { type: 'text/markdown' }), 'book.md');
    const imported = await fetch(`${base}/v1/imports?resource=books&author=Ada%20Lovelace`, {
      method: 'POST',
      headers: AUTH,
      body: manuscript,
    });
    const book = await settled<ImportView>(`/v1/imports/${((await readJson(imported)) as ImportView).job_id}`);
    const bookId = (book.result as { bookId: string }).bookId;

    const res = await send({ ...command, data: command.data!.replace('"123"', `"${bookId}"`) }, adapt, AUTH);
    const written = await settled<ExportView>(`/v1/exports/${((await readJson(res)) as ExportView).job_id}`);
    expect(written.status).toBe('completed');
    const epub = Buffer.from(await (await fetch(`${base}${written.downloadUrl}`)).arrayBuffer());
    expect(epub.subarray(0, 2).toString('latin1')).toBe('PK');
  });

  it('creates a timer from the timer service’s request, with `webhookUrl` and a duration, and shows the time left', async () => {
    const body = CREATE_TIMER_BODY.replace('http://www.localhost:3000', receiver.url);
    const res = await fetch(`${base}/v1/timers`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(201);
    const timer = (await readJson(res)) as { id: string; status: string; timeLeft: number };
    const dueIn = 3600 + 2 * 60;
    expect(timer.timeLeft).toBeLessThanOrEqual(dueIn);
    expect(timer.timeLeft).toBeGreaterThan(dueIn - 30);
    const shown = (await readJson(await fetch(`${base}/v1/timers/${timer.id}`, { headers: AUTH }))) as typeof timer;
    expect(shown).toMatchObject({ id: timer.id, status: 'scheduled' });
    const job = (await readJson(await fetch(`${base}/v1/jobs/${timer.id}`, { headers: AUTH }))) as JobView;
    expect(job.type).toBe('http');
  });
});
