import { request } from 'node:http';
import { JoblineError, createLogger, type BlobStore } from '@jobline/libs';
import { readJson, waitFor } from '@jobline/libs/testing';
import { ProblemDetails } from '../http/problem-details';
import { startTestApp, type TestApp } from '../testing/test-app';
import { startTestData, type TestData } from '../testing/test-data';

const logger = createLogger({ service: 'test', level: 'error' });
const BOUNDARY = 'jobline-test-boundary';
const CSV = 'externalId,username,email\r\nu1,user1,user1@example.com\r\n';

/** A multipart part as it goes on the wire: its header lines, then its body. */
const part = (headers: string[], body: string) => `--${BOUNDARY}\r\n${headers.join('\r\n')}\r\n\r\n${body}\r\n`;
const field = (name: string, value: string) => part([`Content-Disposition: form-data; name="${name}"`], value);
const filePart = (content: string, name = 'file') =>
  part([`Content-Disposition: form-data; name="${name}"; filename="users.csv"`, 'Content-Type: text/csv'], content);
const form = (...parts: string[]) => `${parts.join('')}--${BOUNDARY}--`;

describe('POST /v1/imports with a multipart body', () => {
  let stack: TestApp;
  let blobs: TestData;
  let base: string;

  beforeAll(async () => {
    stack = await startTestApp({ clientId: 'test-imports-upload', logger });
    blobs = await startTestData(stack);
    base = (await stack.start({ data: blobs.data })).baseUrl;
  });

  afterAll(async () => {
    await stack.close();
    await blobs.close();
  });

  const upload = (body: string, contentType = `multipart/form-data; boundary=${BOUNDARY}`, to = base) =>
    fetch(`${to}/v1/imports?resource=users`, {
      method: 'POST',
      headers: { authorization: 'Bearer token-a', 'content-type': contentType },
      body,
    });

  /** Asserts a 400 problem naming the body, with nothing published and nothing stored, and the server still up. */
  async function expectMalformed(body: string) {
    const [eventsBefore, filesBefore] = [await stack.eventsInLog(), await blobs.filesLeft()];

    const res = await upload(body);

    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const problem = ProblemDetails.parse(await readJson(res));
    expect(problem.code).toBe('VALIDATION_FAILED');
    expect(problem.errors).toEqual([expect.objectContaining({ field: '(body)', code: 'malformed_multipart' })]);
    expect(await blobs.filesLeft()).toEqual(filesBefore);
    expect(await stack.eventsInLog()).toBe(eventsBefore);
    expect((await fetch(`${base}/health`)).status).toBe(200);
  }

  it('accepts a well-formed upload (the baseline the malformed cases differ from)', async () => {
    const res = await upload(form(field('note', 'hello'), filePart(CSV)));

    expect(res.status).toBe(202);
    expect(await blobs.filesLeft()).toContainEqual(expect.stringMatching(/\/users\.csv$/));
  });

  it('answers 400 to several malformed part headers before the file, and stays up', async () => {
    await expectMalformed(
      form(
        part(['Content-Disposition: form-data; name="a"', 'Bad Name: 1'], 'x'),
        part(['Content-Disposition: form-data; name="b"', 'no colon here'], 'y'),
        part(['Content-Disposition: form-data; name="c\u0001"', 'X: \u0001'], 'z'),
        filePart(CSV),
      ),
    );
  });

  it('removes the stored file when a part after it is malformed', async () => {
    await expectMalformed(form(filePart(CSV), part(['Content-Disposition: form-data; name="a"', 'Bad Name: 1'], 'x')));
  });

  it('removes the part of the file stored when the body ends inside it', async () => {
    const body = form(filePart(CSV.repeat(2000)));

    await expectMalformed(body.slice(0, body.length / 2));
  });

  it('answers 400 to a body that ends before its closing boundary, with a file part ignored on the way', async () => {
    await expectMalformed(form(filePart(CSV, 'other'), filePart(CSV)).slice(0, -4));
  });

  it('answers 413 to a file over the limit, and keeps none of it', async () => {
    const small = await stack.start({ data: { ...blobs.data, maxUploadBytes: 1000 } });
    const [eventsBefore, filesBefore] = [await stack.eventsInLog(), await blobs.filesLeft()];

    const res = await upload(form(filePart(CSV.repeat(100))), undefined, small.baseUrl);

    expect(res.status).toBe(413);
    expect(ProblemDetails.parse(await readJson(res)).code).toBe('PAYLOAD_TOO_LARGE');
    expect(await blobs.filesLeft()).toEqual(filesBefore);
    expect(await stack.eventsInLog()).toBe(eventsBefore);
  });

  it('answers 503 when the blob store refuses the file, without waiting for the rest of the body', async () => {
    const down: BlobStore = {
      ...blobs.blobs,
      put: () => Promise.reject(new JoblineError('DEPENDENCY_UNAVAILABLE', 'the blob store is unreachable')),
    };
    const app = await stack.start({ data: { ...blobs.data, blobs: down } });
    const eventsBefore = await stack.eventsInLog();

    // Far more than the parser buffers: a file nobody reads stalls the body unless the failed put ends the upload.
    const res = await upload(form(filePart(CSV.repeat(20_000))), undefined, app.baseUrl);

    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(ProblemDetails.parse(await readJson(res)).code).toBe('DEPENDENCY_UNAVAILABLE');
    expect(await stack.eventsInLog()).toBe(eventsBefore);
  });

  it('deletes what was stored of the file when the client goes away mid-upload', async () => {
    const [eventsBefore, filesBefore] = [await stack.eventsInLog(), await blobs.filesLeft()];
    const head = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="users.csv"\r\n\r\n`;
    const client = request(`${base}/v1/imports?resource=users`, {
      method: 'POST',
      headers: {
        authorization: 'Bearer token-a',
        'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
        'content-length': String(10 * 1024 * 1024),
      },
    });
    const gone = new Promise((resolve) => client.once('error', resolve));
    client.write(head + CSV.repeat(5000));
    await waitFor(async () => (await blobs.filesLeft()).length > filesBefore.length, {
      timeoutMs: 5000,
      description: 'the upload to begin landing in the blob store',
    });

    client.destroy();
    await gone;

    await waitFor(async () => (await blobs.filesLeft()).length === filesBefore.length, {
      timeoutMs: 5000,
      description: 'the partial upload to be deleted',
    });
    expect(await blobs.filesLeft()).toEqual(filesBefore);
    expect(await stack.eventsInLog()).toBe(eventsBefore);
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });

  it('keeps the file of an upload whose publishing timed out, for the job Kafka may still take and the retry', async () => {
    const late = await stack.start({
      data: blobs.data,
      publisher: {
        publish: () => Promise.reject(new JoblineError('KAFKA_UNAVAILABLE', 'Kafka did not acknowledge in time')),
      },
    });
    const key = { 'idempotency-key': `upload-${Math.random()}` };
    const body = form(filePart(`${CSV}u2,user2,user2@example.com\r\n`));
    const uploadWithKey = (to: string) =>
      fetch(`${to}/v1/imports?resource=users`, {
        method: 'POST',
        headers: {
          authorization: 'Bearer token-a',
          'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
          ...key,
        },
        body,
      });
    const filesBefore = await blobs.filesLeft();
    const newFiles = async () =>
      (await blobs.filesLeft()).filter((f) => !filesBefore.includes(f) && f.endsWith('/users.csv'));

    const refused = await uploadWithKey(late.baseUrl);
    expect(refused.status).toBe(503);
    const kept = await newFiles();
    expect(kept).toHaveLength(1);

    const retry = await uploadWithKey(base);
    expect(retry.status).toBe(202);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    const view = (await readJson(retry)) as { id: string; payload: { blobKey: string } };
    expect(kept[0]).toContain(view.id);
    // The retry's own copy of the file is not needed: the job reads the first.
    expect(await newFiles()).toEqual(kept);
  });
});
