import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { createLogger } from '@jobline/libs';
import { ProblemDetails } from '../http/problem-details';
import { startTestApp, type TestApp } from '../testing/test-app';

const logger = createLogger({ service: 'test', level: 'error' });
const BATCH_MAX_JOBS = 5;

/**
 * A request body under construction: JSON text, or an object as its entries in order. Entries rather than a JS object,
 * so that keys such as `__proto__` and repeated keys reach the wire as written.
 */
type Node = string | [string, Node][];

const render = (node: Node): string =>
  typeof node === 'string'
    ? node
    : `{${node.map(([key, value]) => `${JSON.stringify(key)}:${render(value)}`).join(',')}}`;

/** A valid `POST /v1/jobs` body that sets every field (but runAt, which excludes delayMs). */
const VALID_JOB: Node = [
  ['type', '"sleep"'],
  ['payload', [['ms', '5']]],
  ['metadata', [['team', '"red"']]],
  ['maxAttempts', '3'],
  [
    'backoff',
    [
      ['type', '"fixed"'],
      ['delayMs', '100'],
    ],
  ],
  ['timeoutMs', '1000'],
  ['delayMs', '60000'],
];

const pathsOf = (node: Node, prefix: string[] = []): string[][] =>
  typeof node === 'string'
    ? []
    : node.flatMap(([key, value]) => [[...prefix, key], ...pathsOf(value, [...prefix, key])]);
const VALID_JOB_PATHS = pathsOf(VALID_JOB);
const OBJECT_PATHS = [[], ...VALID_JOB_PATHS.filter((path) => path.length === 1 && path[0] !== 'type')];

/** Replaces the node at `path` by what `edit` returns; undefined removes it. A path that is gone is left alone. */
function editAt(node: Node, path: readonly string[], edit: (target: Node) => Node | undefined): Node {
  if (path.length === 0) return edit(node) ?? node;
  if (typeof node === 'string') return node;
  const [head, ...rest] = path;
  return node.flatMap(([key, child]): [string, Node][] => {
    if (key !== head) return [[key, child]];
    if (rest.length > 0) return [[key, editAt(child, rest, edit)]];
    const edited = edit(child);
    return edited === undefined ? [] : [[key, edited]];
  });
}

const nested = (depth: number, open: string, leaf: string, close: string) =>
  open.repeat(depth) + leaf + close.repeat(depth);

/** Keys that trip up naive JavaScript, MongoDB or the schemas, and the API's own field names (repeated keys). */
const hostileKey = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', '$where', 'a.b', '\u0000'),
  fc.constantFrom('type', 'payload', 'metadata', 'ms', 'maxAttempts', 'runAt', 'delayMs', 'jobs'),
  fc.string({ unit: 'binary', maxLength: 20 }),
);

/** JSON text of values a client might send where the API expects something else. */
const hostileJson: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
    fc.constantFrom('1e308', '-1e308', '1e400', '-0', '0.5', '-1', '0', '9007199254740993', '5e-324', 'null', 'true'),
    fc.constantFrom('"NaN"', '"Infinity"', '"-0"', '"1e999"', '"0x10"', '" 3 "', '""', '"\\u0000"', '"\\ud800"'),
    fc.constantFrom('[]', '{}', '"2026-01-01T00:00:00Z"', '"9999-12-31T23:59:59-23:59"', '"0000-01-01T00:00:00Z"'),
    fc.string({ unit: 'binary', maxLength: 40 }).map((s) => JSON.stringify(s)),
    fc.integer({ min: 1_000, max: 40_000 }).map((n) => JSON.stringify('x'.repeat(n))),
    fc.integer({ min: 1, max: 3_000 }).map((n) => nested(n, '[', '', ']')),
    fc.integer({ min: 1, max: 3_000 }).map((n) => nested(n, '{"a":', '0', '}')),
    fc.tuple(hostileKey, tie('value')).map(([key, value]) => `{${JSON.stringify(key)}:${value}}`),
  ),
})).value;

type Mutation =
  | { kind: 'set'; path: string[]; value: string }
  | { kind: 'delete'; path: string[] }
  | { kind: 'add'; path: string[]; key: string; value: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), path: fc.constantFrom(...VALID_JOB_PATHS), value: hostileJson }),
  fc.record({ kind: fc.constant('delete' as const), path: fc.constantFrom(...VALID_JOB_PATHS) }),
  fc.record({
    kind: fc.constant('add' as const),
    path: fc.constantFrom(...OBJECT_PATHS),
    key: hostileKey,
    value: hostileJson,
  }),
);

function mutate(job: Node, m: Mutation): Node {
  switch (m.kind) {
    case 'set':
      return editAt(job, m.path, () => m.value);
    case 'delete':
      return editAt(job, m.path, () => undefined);
    case 'add':
      return editAt(job, m.path, (target) => (typeof target === 'string' ? target : [...target, [m.key, m.value]]));
  }
}

/** Mostly a job with a few of its fields broken, removed or added; sometimes the valid job. */
const job = fc.oneof(
  { arbitrary: fc.constant(VALID_JOB), weight: 1 },
  {
    arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }).map((list) => list.reduce(mutate, VALID_JOB)),
    weight: 9,
  },
);

/** Header values as HTTP may carry them: Latin-1 without control characters (DEL included). */
const headerValue = (maxLength: number) =>
  fc.string({
    unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c === 0x7f ? 0x7e : c)),
    maxLength,
  });

/** Percent-encodes every byte of the UTF-8 text but the unreserved characters. */
const percentEncode = (text: string) =>
  [...Buffer.from(text, 'utf8')]
    .map((byte) => {
      const char = String.fromCharCode(byte);
      return /[A-Za-z0-9._~-]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');

/** Text as a careless client writes it into a URL: stray `%`, half escapes, separators, dots, non-ASCII. */
const rawUrlText = fc.string({
  unit: fc.constantFrom(
    '%',
    '%2',
    '%zz',
    '%E0%A4%A',
    '%00',
    '%2F',
    '%ff',
    '&',
    '=',
    '+',
    ';',
    '.',
    '..',
    '/',
    'a',
    'F',
    '0',
    '-',
    'é',
    '[',
    ']',
  ),
  maxLength: 12,
});

describe('invalid input never yields a 5xx (property-based)', () => {
  let stack: TestApp;
  let base: string;
  /** Events in the log after the previous request. */
  let logged = 0;

  beforeAll(async () => {
    stack = await startTestApp({ clientId: 'test-invalid-input', logger });
    const app = await stack.start({
      batchMaxJobs: BATCH_MAX_JOBS,
      maxPayloadBytes: 4096,
      tokens: new Map([['token-a', 'tenant-a']]),
      maxBodyBytes: 65_536,
      retryAfterSeconds: 1,
    });
    base = app.baseUrl;
    logged = await stack.eventsInLog();
  });

  afterAll(() => stack.close());

  const eventsInLog = () => stack.eventsInLog();

  const request = (method: string, path: string, body?: string | Uint8Array, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { method, headers: { authorization: 'Bearer token-a', ...headers }, body });
  const postJson = (path: string, body: string, headers: Record<string, string> = {}) =>
    request('POST', path, body, { 'content-type': 'application/json', ...headers });

  /**
   * The property every answer keeps: no 5xx; an error is problem+json with a known code and its own status; and the
   * log grew by `accepted` events if the request was accepted (none for an idempotent replay), else not at all.
   */
  async function expectSound(res: Response, accepted = 0): Promise<void> {
    const text = await res.text();
    expect(res.status).toBeLessThan(500);
    if (res.status >= 400) {
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const problem = ProblemDetails.parse(JSON.parse(text));
      expect(problem.status).toBe(res.status);
    }
    const now = await eventsInLog();
    const published = now - logged;
    logged = now;
    const replayed = res.headers.get('idempotent-replayed') === 'true';
    expect(published).toBe(res.status === 202 && !replayed ? accepted : 0);
  }

  it('POST /v1/jobs: any JSON value as the body', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue().map((v) => JSON.stringify(v)),
          hostileJson,
        ),
        async (body) => {
          await expectSound(await postJson('/v1/jobs', body), 1);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('POST /v1/jobs: a valid body with fields broken, removed or added, and any Idempotency-Key', async () => {
    await fc.assert(
      fc.asyncProperty(job, fc.option(headerValue(300)), async (body, key) => {
        const headers: Record<string, string> = key === null ? {} : { 'idempotency-key': key };
        await expectSound(await postJson('/v1/jobs', render(body), headers), 1);
      }),
      { numRuns: 200 },
    );
  });

  it('POST /v1/jobs/batch: lists of valid and broken jobs, too many jobs, and anything else as the list', async () => {
    const jobs = fc.array(fc.oneof(job.map(render), hostileJson), { minLength: 0, maxLength: BATCH_MAX_JOBS + 2 });
    const body = fc.oneof(
      jobs.map((list) => ({ text: `{"jobs":[${list.join(',')}]}`, count: list.length })),
      fc.tuple(jobs, hostileKey, hostileJson).map(([list, key, value]) => ({
        text: `{"jobs":[${list.join(',')}],${JSON.stringify(key)}:${value}}`,
        count: list.length,
      })),
      hostileJson.map((value) => ({ text: `{"jobs":${value}}`, count: 0 })),
    );
    await fc.assert(
      fc.asyncProperty(body, async ({ text, count }) => {
        await expectSound(await postJson('/v1/jobs/batch', text), count);
      }),
      { numRuns: 150 },
    );
  });

  it('POST /v1/jobs and /batch: arbitrary bytes as a JSON body, in any charset and content encoding', async () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 512 }),
      fc.string({ unit: 'binary', maxLength: 200 }).map((s) => new Uint8Array(Buffer.from(s, 'utf8'))),
      fc
        .tuple(fc.constantFrom('{', '{"type":"noop"', '{"jobs":[', '['), fc.uint8Array({ maxLength: 64 }))
        .map(([prefix, tail]) => new Uint8Array([...Buffer.from(prefix), ...tail])),
    );
    const contentType = fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'application/json; charset=utf-16',
      'application/json; charset=latin1',
      'application/json;charset="UTF-8"',
      'application/json; charset',
    );
    const encoding = fc.constantFrom(undefined, 'identity', 'gzip', 'deflate', 'br', 'compress', 'gzip, br');
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/v1/jobs', '/v1/jobs/batch'),
        bytes,
        contentType,
        encoding,
        fc.boolean(),
        async (path, body, type, contentEncoding, gzip) => {
          const headers: Record<string, string> = { 'content-type': type };
          if (contentEncoding) headers['content-encoding'] = contentEncoding;
          const sent = gzip ? new Uint8Array(gzipSync(body)) : body;
          // Bytes that happen to be a valid job (`{"type":"noop"}`) are accepted like any valid job.
          await expectSound(await request('POST', path, sent, headers), 1);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('POST /v1/jobs: any Content-Type and X-Request-Id with a valid body', async () => {
    const contentType = fc.oneof(
      headerValue(60),
      fc.constantFrom('application/json', 'text/json', 'application/problem+json', 'application/*', '*/*', '/'),
      fc.constantFrom('multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'APPLICATION/JSON'),
    );
    await fc.assert(
      fc.asyncProperty(contentType, headerValue(300), async (type, requestId) => {
        const res = await request('POST', '/v1/jobs', '{"type":"noop"}', {
          'content-type': type,
          'x-request-id': requestId,
        });
        expect(res.headers.get('x-request-id')!.length).toBeLessThanOrEqual(128);
        await expectSound(res, 1);
      }),
      { numRuns: 100 },
    );
  });

  it('GET /v1/jobs: arbitrary query strings', async () => {
    const name = fc.oneof(
      fc.constantFrom('status', 'type', 'limit', 'cursor', 'createdAfter', 'createdBefore', 'metadata.team'),
      fc.constantFrom('metadata.', 'metadata.$x', 'metadata.a.b', 'metadata.__proto__', 'metadata.constructor'),
      fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'limit[]', 'status[0]', ''),
      fc.string({ unit: 'binary', maxLength: 10 }),
    );
    const value = fc.oneof(
      fc.constantFrom('', 'pending', 'pending,failed', 'failed,,', 'PENDING', '0', '-1', '1e3', '0x10', 'NaN', '100'),
      fc.constantFrom('101', 'Infinity', '2026-01-01T00:00:00Z', '0000-01-01T00:00:00+23:59', '2027-02-30T00:00:00Z'),
      fc.constantFrom(Buffer.from('{"c":"2026-01-01T00:00:00Z","i":"x","f":""}').toString('base64url'), 'e30', '!!'),
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc.integer({ min: 100, max: 1500 }).map((n) => 'x'.repeat(n)),
    );
    const pairs = fc
      .array(fc.tuple(name, value), { maxLength: 6 })
      .map((list) => list.map(([n, v]) => `${percentEncode(n)}=${percentEncode(v)}`).join('&'));
    const query = fc.oneof(
      pairs,
      rawUrlText,
      fc.tuple(pairs, rawUrlText).map(([p, raw]) => `${p}&${raw}`),
    );
    await fc.assert(
      fc.asyncProperty(query, async (q) => {
        await expectSound(await request('GET', `/v1/jobs?${q}`));
      }),
      { numRuns: 200 },
    );
  });

  it('GET /v1/jobs/{id}, /events, cancel and retry: arbitrary ids', async () => {
    const id = fc.oneof(fc.uuid(), fc.string({ unit: 'binary', maxLength: 40 }).map(percentEncode), rawUrlText);
    const route = fc.constantFrom(
      { method: 'GET', suffix: '' },
      { method: 'GET', suffix: '/events' },
      { method: 'POST', suffix: '/cancel' },
      { method: 'POST', suffix: '/retry' },
    );
    await fc.assert(
      fc.asyncProperty(id, route, async (jobId, { method, suffix }) => {
        await expectSound(await request(method, `/v1/jobs/${jobId}${suffix}`));
      }),
      { numRuns: 200 },
    );
  });
});
