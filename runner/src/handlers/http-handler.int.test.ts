import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { createServer, type IncomingHttpHeaders, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createFileBlobStore,
  createGuardedHttpClient,
  parseOutboundAllowList,
  tenantCallbackSecret,
  verifyCallbackSignature,
  type BlobStore,
  type GuardedHttpClient,
  type OutboundLookup,
} from '@jobline/libs';
import { waitFor } from '@jobline/libs/testing';
import { toErrorInfo } from '../execute-job';
import { createHttpHandler, RESULT_BODY_BYTES, type HttpJobResult } from './http-handler';
import { handlerContext, jobFailure, requestedJob } from './testing/handler-fixtures';

const SIGNING_KEY = 'http-handler-test-signing-key';
const TENANT = 'acme';

interface Hit {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const job = (payload: unknown) => requestedJob('http', payload, { tenantId: TENANT });

/** A receiver whose paths answer as webhook targets do, well or badly. */
const routes: Record<string, (res: ServerResponse) => void> = {
  '/ok': (res) => res.writeHead(200, { 'content-type': 'application/json', etag: '"v1"' }).end('{"ok":true}'),
  '/created': (res) => res.writeHead(201).end(),
  '/missing': (res) => res.writeHead(404, { 'content-type': 'text/plain' }).end('no such hook'),
  '/broken': (res) => res.writeHead(500).end('boom'),
  '/slow-down': (res) => res.writeHead(429, { 'retry-after': '2' }).end(),
  '/timeout': (res) => res.writeHead(408).end(),
  '/maintenance': (res) =>
    res.writeHead(503, { 'retry-after': new Date(Date.now() + 90_000).toUTCString() }).end('back soon'),
  '/big-text': (res) =>
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('é'.repeat(RESULT_BODY_BYTES)),
  '/binary': (res) => res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.alloc(300, 0xff)),
  '/hang': () => undefined,
};

describe('http job handler against a local receiver', () => {
  let server: Server;
  let base: string;
  let port: number;
  let connections = 0;
  const hits: Hit[] = [];
  const clients: GuardedHttpClient[] = [];

  /** A handler whose client may reach loopback (the receiver) unless told otherwise. */
  const handler = (allowList = '127.0.0.1/32', lookup?: OutboundLookup) => {
    const http = createGuardedHttpClient({ allowList: parseOutboundAllowList(allowList), lookup });
    clients.push(http);
    return createHttpHandler({ http, callbackSigningKey: SIGNING_KEY });
  };
  const run = async (payload: unknown, ctx = handlerContext()) =>
    (await handler()(job(payload), ctx)).result as HttpJobResult;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const path = req.url ?? '/';
        hits.push({ method: req.method!, path, headers: req.headers, body: Buffer.concat(chunks).toString() });
        (routes[path] ?? ((r: ServerResponse) => r.writeHead(200).end()))(res);
      });
    });
    server.on('connection', () => (connections += 1));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('POSTs a JSON body, signed with the tenant secret, with the idempotency key and the job id', async () => {
    const payload = { url: `${base}/ok`, body: { order: 42 }, headers: { 'X-Team': 'red' } };
    const sent = job(payload);

    const { result } = await handler()(sent, handlerContext());

    const hit = hits.at(-1)!;
    expect(hit).toMatchObject({ method: 'POST', path: '/ok', body: '{"order":42}' });
    expect(hit.headers).toMatchObject({
      'content-type': 'application/json',
      'idempotency-key': 'job-key-1',
      'jobline-job-id': sent.id,
      'x-team': 'red',
      'user-agent': 'jobline',
    });
    const secret = tenantCallbackSecret(SIGNING_KEY, TENANT);
    const signature = hit.headers['jobline-signature'] as string;
    const now = Math.floor(Date.now() / 1000);
    expect(verifyCallbackSignature(secret, signature, hit.body, now).ok).toBe(true);
    expect(verifyCallbackSignature(tenantCallbackSecret(SIGNING_KEY, 'other'), signature, hit.body, now).ok).toBe(
      false,
    );
    expect(result).toEqual({
      status: 200,
      headers: { 'content-type': 'application/json', etag: '"v1"' },
      bodyBytes: 11,
      body: '{"ok":true}',
      truncated: false,
    });
  });

  it('sends GET without a body by default, and a string body as text with its own content type', async () => {
    await run({ url: `${base}/plain` });
    expect(hits.at(-1)).toMatchObject({ method: 'GET', path: '/plain', body: '' });
    expect(hits.at(-1)!.headers['content-type']).toBeUndefined();

    await run({ url: `${base}/plain`, method: 'PUT', body: 'a=1', headers: { 'Content-Type': 'text/csv' } });
    expect(hits.at(-1)).toMatchObject({ method: 'PUT', body: 'a=1', headers: { 'content-type': 'text/csv' } });
    await run({ url: `${base}/plain`, body: 'hello' });
    expect(hits.at(-1)).toMatchObject({ method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' } });
  });

  it('completes on a status listed in expectStatus, and fails for good on another 2xx', async () => {
    expect(await run({ url: `${base}/created`, expectStatus: [200, 201] })).toMatchObject({ status: 201 });
    const err = await jobFailure(run({ url: `${base}/ok`, expectStatus: 201 }));
    expect(err).toMatchObject({ code: 'OUTBOUND_UNEXPECTED_STATUS', retryable: false });
    expect(err.message).toContain('answered 200, expected 201');
  });

  it('completes on a 404 when the job expects it', async () => {
    expect(await run({ url: `${base}/missing`, expectStatus: 404 })).toMatchObject({
      status: 404,
      body: 'no such hook',
    });
  });

  it.each([
    ['a 404', '/missing', false],
    ['a 500', '/broken', true],
    ['a 408', '/timeout', true],
  ])('fails on %s (%s), retryable: %s', async (_name, path, retryable) => {
    const err = await jobFailure(run({ url: `${base}${path}` }));
    expect(err).toMatchObject({ code: 'OUTBOUND_UNEXPECTED_STATUS', retryable, retryAfterMs: undefined });
    expect(toErrorInfo(err)).toMatchObject({ code: 'OUTBOUND_UNEXPECTED_STATUS', retryable });
  });

  it('carries a 429 Retry-After in seconds as the least wait before the next attempt', async () => {
    const err = await jobFailure(run({ url: `${base}/slow-down` }));
    expect(err).toMatchObject({ code: 'OUTBOUND_UNEXPECTED_STATUS', retryable: true, retryAfterMs: 2000 });
    expect(err.message).toContain('answered 429');
  });

  it('carries a Retry-After HTTP date as the time until then', async () => {
    const err = await jobFailure(run({ url: `${base}/maintenance` }));
    expect(err.retryable).toBe(true);
    expect(err.retryAfterMs).toBeGreaterThan(85_000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(90_000);
    expect(err.message).toContain('back soon');
  });

  it('keeps at most RESULT_BODY_BYTES of a text body, cut between characters, and none of a binary one', async () => {
    const text = await run({ url: `${base}/big-text` });
    expect(text.bodyBytes).toBe(2 * RESULT_BODY_BYTES);
    expect(text.truncated).toBe(true);
    expect(text.body).toBe('é'.repeat(RESULT_BODY_BYTES / 2));

    expect(await run({ url: `${base}/binary` })).toEqual({
      status: 200,
      headers: { 'content-type': 'image/png' },
      bodyBytes: 300,
    });
  });

  it("stops the request when the job's signal aborts", async () => {
    const abort = new AbortController();
    const before = hits.length;
    const pending = run({ url: `${base}/hang` }, handlerContext({ signal: abort.signal })).catch((err: unknown) => err);
    await waitFor(() => hits.length > before, { timeoutMs: 5000, description: 'the request to arrive' });
    const reason = new Error('cancelled');
    abort.abort(reason);
    expect(await pending).toBe(reason);
  });

  it('fails with a retryable timeout when the receiver does not answer within timeoutMs', async () => {
    const err = await jobFailure(run({ url: `${base}/hang`, timeoutMs: 200 }));
    expect(err).toMatchObject({ code: 'OUTBOUND_TIMEOUT', retryable: true });
  });

  describe('without loopback in the allow-list', () => {
    /** `hooks.test` plays a public-looking name that its owner points at loopback. */
    const rebinding: OutboundLookup = async () => [{ address: '127.0.0.1', family: 4 }];

    it.each([
      ['a name resolving to loopback', () => `http://hooks.test:${port}/ok`],
      ['a loopback literal', () => `${base}/ok`],
      ['localhost with a trailing dot', () => `http://localhost.:${port}/ok`],
    ])('fails the job for good on %s, without connecting', async (_name, url) => {
      const before = connections;
      const err = await jobFailure(handler('', rebinding)(job({ url: url(), body: { a: 1 } }), handlerContext()));
      expect(err).toMatchObject({ code: 'OUTBOUND_ADDRESS_BLOCKED', retryable: false });
      expect(toErrorInfo(err)).toMatchObject({ code: 'OUTBOUND_ADDRESS_BLOCKED', retryable: false });
      expect(connections).toBe(before);
    });

    it('fails the job for good on a redirect into loopback from an allowed name', async () => {
      const trusted = handler('hooks.test', rebinding);
      routes['/to-loopback'] = (res) => res.writeHead(307, { location: `${base}/ok` }).end();
      const err = await jobFailure(trusted(job({ url: `http://hooks.test:${port}/to-loopback` }), handlerContext()));
      expect(err).toMatchObject({ code: 'OUTBOUND_ADDRESS_BLOCKED', retryable: false });
      expect(err.message).toContain('redirect to 127.0.0.1');
    });
  });

  describe('with store: true', () => {
    let root: string;
    let blobs: BlobStore;
    const storing = () => {
      const http = createGuardedHttpClient({ allowList: parseOutboundAllowList('127.0.0.1/32') });
      clients.push(http);
      return createHttpHandler({ http, callbackSigningKey: SIGNING_KEY, blobs });
    };

    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), 'http-handler-'));
      blobs = createFileBlobStore({ root });
    });

    afterAll(async () => {
      await rm(root, { recursive: true, force: true });
    });

    it.each([
      ['a JSON body', '/ok', 'application/json', Buffer.from('{"ok":true}')],
      ['a binary body', '/binary', 'image/png', Buffer.alloc(300, 0xff)],
    ])(
      'keeps %s whole in the blob store under the job, and points resultUrl at it',
      async (_name, path, type, bytes) => {
        const sent = job({ url: `${base}${path}`, store: true });

        const { result, resultUrl } = await storing()(sent, handlerContext());

        const key = `${TENANT}/jobs/${sent.id}/response`;
        expect(resultUrl).toBe(`/v1/jobs/${sent.id}/result`);
        expect(result).toEqual({
          status: 200,
          headers: expect.objectContaining({ 'content-type': type }),
          bodyBytes: bytes.length,
          storedAs: key,
        });
        expect(await blobs.stat(key)).toEqual({ key, bytes: bytes.length, contentType: type });
        expect(await buffer(await blobs.get(key))).toEqual(bytes);
      },
    );

    it('stores nothing when the answer fails the job', async () => {
      const sent = job({ url: `${base}/missing`, store: true });
      await jobFailure(storing()(sent, handlerContext()));
      expect(await blobs.stat(`${TENANT}/jobs/${sent.id}/response`)).toBeNull();
    });

    it('fails for good in a runner without a blob store', async () => {
      const err = await jobFailure(run({ url: `${base}/ok`, store: true }));
      expect(err).toMatchObject({ code: 'CONFIG_INVALID', retryable: false });
    });
  });

  it('refuses a payload that is not a valid http job, as a validation error that is not retried', async () => {
    const err = await handler()(job({ url: `${base}/ok`, headers: { Host: 'evil' } }), handlerContext()).catch(
      (e) => e,
    );
    expect(toErrorInfo(err)).toMatchObject({ code: 'VALIDATION_FAILED', retryable: false });
  });
});
