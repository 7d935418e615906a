import { randomUUID } from 'node:crypto';
import type { JobView } from '@jobline/libs';
import { readJson, testNamespace, waitFor } from '@jobline/libs/testing';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { settledView } from './job-settled';
import { startMailCapture, type MailCapture } from './mail-capture';
import { startJobline, type Jobline } from './service-process';

const A = { authorization: 'Bearer data-a' };
const B = { authorization: 'Bearer data-b' };

interface ImportView extends JobView {
  job_id: string;
  totalRecords: number | null;
  errorCount: number | null;
  errors: { recordIndex: number; errorMessage: string; errorType: string; recordData: unknown }[] | null;
  report: {
    processed: number;
    imported: number;
    failed: number;
    errors: { recordIndex: number; code: string; message: string; record: unknown }[];
  } | null;
}
interface ExportView extends JobView {
  downloadUrl: string | null;
}

describe('imports and exports over HTTP, through the runner and the blob store', () => {
  const ns = testNamespace();
  let jobline: Jobline;
  let base: string;
  let blobDir: string;
  let smtp: MailCapture;

  const upload = async (resource: string, name: string, content: string, type: string, headers = A) => {
    const form = new FormData();
    form.append('file', new Blob([content], { type }), name);
    return fetch(`${base}/v1/imports?resource=${resource}`, { method: 'POST', headers, body: form });
  };
  const settled = <T extends JobView>(path: string, headers = A) => settledView<T>(`${base}${path}`, headers, 60_000);

  // One bio with what CSV must quote; the others have none, which an export leaves out.
  const users: { externalId: string; username: string; email: string; bio?: string }[] = Array.from(
    { length: 5 },
    (_, i) => ({
      externalId: randomUUID(),
      username: `user${i}`,
      email: `user${i}@example.com`,
      ...(i === 0 ? { bio: 'likes "quotes", commas\nand newlines' } : {}),
    }),
  );

  beforeAll(async () => {
    smtp = await startMailCapture();
    blobDir = `/tmp/jobline-blobs-${ns.database}`;
    jobline = await startJobline(ns, (api) => ({
      API_TOKENS: 'data-a:tenant-a,data-b:tenant-b',
      BLOB_DIR: blobDir,
      // The test's file server is on loopback, which imports from a url may reach only when allowed.
      OUTBOUND_ALLOWLIST: '127.0.0.1/32',
      SMTP_URL: smtp.url,
      PUBLIC_BASE_URL: api,
    }));
    base = jobline.base;
  });

  afterAll(async () => {
    await jobline.stop();
    await smtp.close();
    const { rm } = await import('node:fs/promises');
    await rm(blobDir, { recursive: true, force: true });
  });

  it('imports an uploaded CSV, reporting each broken record, and exports the records back through a signed link', async () => {
    const header = 'externalId,username,email,bio';
    const cell = (v: string | undefined) => (v === undefined ? '' : `"${v.replaceAll('"', '""')}"`);
    const rows = users.map((u) => [u.externalId, u.username, u.email, cell(u.bio)].join(','));
    const broken = [`${randomUUID()},nobody,not-an-email,`, `not-a-uuid,someone,someone@example.com,`];
    const csv = `\uFEFF${[header, rows[0], broken[0], ...rows.slice(1), broken[1]].join('\r\n')}\r\n`;

    const res = await upload('users', 'users.csv', csv, 'text/csv');
    expect(res.status).toBe(202);
    const accepted = (await readJson(res)) as ImportView;
    expect(res.headers.get('location')).toBe(`/v1/imports/${accepted.id}`);
    expect(accepted.type).toBe('data.import');

    const done = await settled<ImportView>(`/v1/imports/${accepted.id}`);
    expect(done.status).toBe('completed');
    expect(done.report).toMatchObject({ processed: 7, imported: 5, failed: 2 });
    expect(done.report!.errors.map((e) => [e.recordIndex, e.code])).toEqual([
      [1, 'VALIDATION_FAILED'],
      [6, 'VALIDATION_FAILED'],
    ]);
    // The same figures under the Bulk Data Import/Export API's names, for its clients.
    expect(done).toMatchObject({ job_id: accepted.id, resource: 'users', totalRecords: 7, successCount: 5 });
    expect(done.errorCount).toBe(2);
    expect(done.errors!.map((e) => [e.recordIndex, e.errorType, e.errorMessage])).toEqual(
      done.report!.errors.map((e) => [e.recordIndex, e.code, e.message]),
    );
    expect(accepted).toMatchObject({ job_id: accepted.id, totalRecords: null, report: null });

    // Another tenant sees neither the import nor, later, the records.
    expect((await fetch(`${base}/v1/imports/${accepted.id}`, { headers: B })).status).toBe(404);

    const created = await fetch(`${base}/v1/exports`, {
      method: 'POST',
      headers: { ...A, 'content-type': 'application/json' },
      body: JSON.stringify({
        resource: 'users',
        format: 'ndjson',
        fields: ['externalId', 'username', 'email', 'bio'],
        notify: { email: 'analyst@example.com' },
      }),
    });
    expect(created.status).toBe(202);
    const exportJob = (await readJson(created)) as ExportView;
    const exported = await settled<ExportView>(`/v1/exports/${exportJob.id}`);
    expect(exported.status).toBe('completed');
    expect(exported.downloadUrl).toMatch(new RegExp(`^/v1/exports/${exportJob.id}/download\\?`));

    // The signed link works without a token; tampering with it does not.
    const file = await fetch(`${base}${exported.downloadUrl}`);
    expect(file.status).toBe(200);
    const lines = (await file.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { externalId: string });
    const byId = (list: readonly { externalId: unknown }[]) =>
      [...list].sort((x, y) => String(x.externalId).localeCompare(String(y.externalId)));
    expect(byId(lines)).toEqual(byId(users));
    const tampered = exported.downloadUrl!.replace(
      /signature=([0-9a-f])/,
      (_m, c: string) => `signature=${c === '0' ? '1' : '0'}`,
    );
    expect((await fetch(`${base}${tampered}`)).status).toBe(401);
    expect((await fetch(`${base}/v1/exports/${exportJob.id}/download`)).status).toBe(401);
    expect((await fetch(`${base}/v1/exports/${exportJob.id}/download`, { headers: A })).status).toBe(200);
    expect((await fetch(`${base}/v1/exports/${exportJob.id}/download`, { headers: B })).status).toBe(404);

    // The mail carries a signed link to the same file, which works without a token.
    const mail = await waitFor(() => smtp.mails.find((m) => m.text?.includes(exportJob.id)), {
      timeoutMs: 30_000,
      description: 'the export mail',
    });
    expect(mail.to).toMatchObject({ text: 'analyst@example.com' });
    const mailed = /(http:\/\/\S+\/download\?\S+)/.exec(mail.text ?? '')![1]!;
    const fromMail = await fetch(mailed);
    expect(fromMail.status).toBe(200);
    expect((await fromMail.text()).trim().split('\n')).toHaveLength(users.length);

    // Streamed straight into the response, in CSV.
    const streamed = await fetch(`${base}/v1/exports?resource=users&format=csv&fields=externalId,username`, {
      headers: A,
    });
    expect(streamed.status).toBe(200);
    expect(streamed.headers.get('content-type')).toMatch(/^text\/csv/);
    const csvLines = (await streamed.text()).trim().split(/\r?\n/);
    expect(csvLines[0]).toBe('externalId,username');
    expect(csvLines.slice(1).sort()).toEqual(users.map((u) => `${u.externalId},${u.username}`).sort());
    const theirs = await fetch(`${base}/v1/exports?resource=users&format=ndjson`, { headers: B });
    expect((await theirs.text()).trim()).toBe('');

    // Both jobs are listed under their endpoints.
    const imports = await readJson(await fetch(`${base}/v1/imports`, { headers: A }));
    expect(imports.items.map((j: JobView) => j.id)).toEqual([accepted.id]);
    const exportsList = await readJson(await fetch(`${base}/v1/exports`, { headers: A }));
    expect(exportsList.items.map((j: JobView) => j.id)).toEqual([exportJob.id]);
  });

  it('imports a Markdown manuscript as a book and exports it as EPUB and PDF', async () => {
    const manuscript = [
      '# The Log',
      '',
      '## Events',
      '',
      'Every change is an *event*.',
      '',
      '## Projections',
      '',
      'Folded into documents.',
    ].join('\n');
    const res = await upload('books&author=Ada%20Lovelace', 'the-log.md', manuscript, 'text/markdown');
    expect(res.status).toBe(202);
    const imported = await settled<ImportView>(`/v1/imports/${((await readJson(res)) as JobView).id}`);
    expect(imported).toMatchObject({ type: 'book.import', error: null, status: 'completed', result: { chapters: 2 } });
    const bookId = (imported.result as { bookId: string }).bookId;

    for (const [format, magic] of [
      ['epub', 'PK'],
      ['pdf', '%PDF-'],
    ] as const) {
      const created = await fetch(`${base}/v1/exports`, {
        method: 'POST',
        headers: { ...A, 'content-type': 'application/json' },
        body: JSON.stringify({ resource: 'books', id: bookId, format }),
      });
      expect(created.status).toBe(202);
      const done = await settled<ExportView>(`/v1/exports/${((await readJson(created)) as JobView).id}`);
      expect([format, done.type, done.status]).toEqual([format, 'book.export', 'completed']);
      const file = Buffer.from(await (await fetch(`${base}${done.downloadUrl}`)).arrayBuffer());
      expect(file.subarray(0, magic.length).toString('latin1')).toBe(magic);
      if (format === 'epub') expect(file.subarray(30, 38).toString('latin1')).toBe('mimetype');
    }

    // Another tenant cannot export it: the job fails, the book is not theirs.
    const theirs = await fetch(`${base}/v1/exports`, {
      method: 'POST',
      headers: { ...B, 'content-type': 'application/json' },
      body: JSON.stringify({ resource: 'books', id: bookId, format: 'pdf' }),
    });
    const refused = await settled<ExportView>(`/v1/exports/${((await readJson(theirs)) as JobView).id}`, B);
    expect([refused.status, refused.downloadUrl]).toEqual(['failed', null]);
  });

  it('imports from a url, downloading the file through the runner', async () => {
    const articles = users.slice(0, 2).map((u, i) => ({
      externalId: randomUUID(),
      authorExternalId: u.externalId,
      slug: `article-${i}`,
      title: `Article ${i}`,
      body: 'text',
    }));
    const orphan = {
      externalId: randomUUID(),
      authorExternalId: randomUUID(),
      slug: 'orphan',
      title: 'Orphan',
      body: 'text',
    };
    const files = createServer((_req, res) => {
      res.setHeader('content-type', 'application/x-ndjson');
      res.end([...articles, orphan].map((a) => JSON.stringify(a)).join('\n'));
    });
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    try {
      const res = await fetch(`${base}/v1/imports?resource=articles`, {
        method: 'POST',
        headers: { ...A, 'content-type': 'application/json' },
        body: JSON.stringify({ url: `http://127.0.0.1:${(files.address() as AddressInfo).port}/articles.ndjson` }),
      });
      expect(res.status).toBe(202);
      const done = await settled<ImportView>(`/v1/imports/${((await readJson(res)) as JobView).id}`);
      expect(done.report).toMatchObject({ processed: 3, imported: 2, failed: 1 });
      expect(done.report!.errors.map((e) => [e.recordIndex, e.code])).toEqual([[2, 'RELATION_NOT_FOUND']]);
    } finally {
      await new Promise<void>((resolve) => files.close(() => resolve()));
    }
  });

  it('refuses imports it cannot take, naming what is wrong', async () => {
    const unknown = await upload('planets', 'x.ndjson', '{}\n', 'application/x-ndjson');
    expect(unknown.status).toBe(400);
    expect(await readJson(unknown)).toMatchObject({ errors: [expect.objectContaining({ field: 'resource' })] });

    const noFile = new FormData();
    noFile.append('note', 'no file here');
    const missing = await fetch(`${base}/v1/imports?resource=users`, { method: 'POST', headers: A, body: noFile });
    expect(missing.status).toBe(400);
    expect(await readJson(missing)).toMatchObject({ errors: [expect.objectContaining({ field: 'file' })] });

    const internal = await fetch(`${base}/v1/imports?resource=users`, {
      method: 'POST',
      headers: { ...A, 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'http://169.254.169.254/latest/users.ndjson' }),
    });
    expect(internal.status).toBe(400);
    expect(await readJson(internal)).toMatchObject({ errors: [expect.objectContaining({ field: 'url' })] });

    const text = await fetch(`${base}/v1/imports?resource=users`, {
      method: 'POST',
      headers: { ...A, 'content-type': 'text/plain' },
      body: 'externalId,username',
    });
    expect(text.status).toBe(415);
  });
});
