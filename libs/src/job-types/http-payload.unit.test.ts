import {
  HTTP_JOB_LIMITS,
  HttpPayload,
  httpJobBodyText,
  httpJobMethod,
  httpJobResponseKey,
  httpJobResultPath,
  isForbiddenHttpJobHeader,
} from './http-payload';
import { JOB_PAYLOAD_SCHEMAS } from './job-types';

const URL_ = 'https://hooks.example.com/jobline';

/** The dotted paths of the issues a payload raises, or [] when it is valid. */
function issues(payload: unknown): string[] {
  const parsed = HttpPayload.safeParse(payload);
  return parsed.success ? [] : parsed.error.issues.map((issue) => issue.path.join('.'));
}

describe('HttpPayload', () => {
  it('is the schema of the http job type', () => {
    expect(JOB_PAYLOAD_SCHEMAS.http).toBe(HttpPayload);
  });

  it('accepts a bare URL and every field within bounds', () => {
    expect(issues({ url: URL_ })).toEqual([]);
    expect(
      issues({
        method: 'PATCH',
        url: 'http://hooks.example.com:8080/a?b=c',
        headers: { Authorization: 'Bearer x', 'X-Trace': 'a\tb c' },
        body: { id: 1, nested: [true, null] },
        timeoutMs: HTTP_JOB_LIMITS.maxTimeoutMs,
        expectStatus: [200, 404],
        store: true,
      }),
    ).toEqual([]);
    expect(issues({ url: URL_, body: 'plain text', expectStatus: 204 })).toEqual([]);
    expect(issues({ url: URL_, body: [1, 2, 3] })).toEqual([]);
  });

  it('sends POST when there is a body and GET when there is none, unless the method is given', () => {
    expect(httpJobMethod({ url: URL_ })).toBe('GET');
    expect(httpJobMethod({ url: URL_, body: '' })).toBe('POST');
    expect(httpJobMethod({ url: URL_, body: { a: 1 }, method: 'PUT' })).toBe('PUT');
    expect(httpJobMethod({ url: URL_, method: 'DELETE' })).toBe('DELETE');
  });

  it('sends a string as it is and anything else as JSON', () => {
    expect(httpJobBodyText('{"a":1}')).toBe('{"a":1}');
    expect(httpJobBodyText({ a: 1 })).toBe('{"a":1}');
    expect(httpJobBodyText(undefined)).toBeUndefined();
  });

  it.each<[string, unknown, string[]]>([
    ['no url', {}, ['url']],
    ['a relative url', { url: '/hook' }, ['url']],
    ['a non-http scheme', { url: 'ftp://example.com/x' }, ['url']],
    ['an overlong url', { url: `${URL_}?${'a'.repeat(HTTP_JOB_LIMITS.urlLength)}` }, ['url']],
    ['an unknown method', { url: URL_, method: 'TRACE' }, ['method']],
    ['a lower-case method', { url: URL_, method: 'post' }, ['method']],
    ['a body on a GET', { url: URL_, method: 'GET', body: 'x' }, ['body']],
    ['a body on a HEAD', { url: URL_, method: 'HEAD', body: { a: 1 } }, ['body']],
    ['a number as body', { url: URL_, body: 42 }, ['body']],
    ['null as body', { url: URL_, body: null }, ['body']],
    ['a string body over the bound', { url: URL_, body: 'é'.repeat(HTTP_JOB_LIMITS.bodyBytes / 2 + 1) }, ['body']],
    ['a JSON body over the bound', { url: URL_, body: { a: 'x'.repeat(HTTP_JOB_LIMITS.bodyBytes) } }, ['body']],
    ['a zero timeout', { url: URL_, timeoutMs: 0 }, ['timeoutMs']],
    ['a timeout over the bound', { url: URL_, timeoutMs: HTTP_JOB_LIMITS.maxTimeoutMs + 1 }, ['timeoutMs']],
    ['a status below 100', { url: URL_, expectStatus: 99 }, ['expectStatus']],
    ['a status over 599', { url: URL_, expectStatus: [200, 600] }, ['expectStatus.1']],
    ['an empty status list', { url: URL_, expectStatus: [] }, ['expectStatus']],
    ['a fractional status', { url: URL_, expectStatus: 200.5 }, ['expectStatus']],
    ['an unknown field', { url: URL_, retries: 3 }, ['']],
    ['store that is not a boolean', { url: URL_, store: 'yes' }, ['store']],
    ['a header name with a space', { url: URL_, headers: { 'X Trace': '1' } }, ['headers.X Trace']],
    ['a header value with CR LF', { url: URL_, headers: { 'X-A': 'a\r\nHost: evil' } }, ['headers.X-A']],
    ['a header value of non-ASCII', { url: URL_, headers: { 'X-A': 'é' } }, ['headers.X-A']],
    ['a header value over the bound', { url: URL_, headers: { 'X-A': 'a'.repeat(4097) } }, ['headers.X-A']],
    ['a header given twice in other case', { url: URL_, headers: { 'x-a': '1', 'X-A': '2' } }, ['headers.X-A']],
  ])('refuses %s', (_name, payload, paths) => {
    expect(issues(payload)).toEqual(paths);
  });

  it('refuses more headers, or more header bytes, than the bounds', () => {
    const many = Object.fromEntries(Array.from({ length: HTTP_JOB_LIMITS.headers + 1 }, (_, i) => [`X-${i}`, 'v']));
    expect(issues({ url: URL_, headers: many })).toEqual(['headers']);
    const large = Object.fromEntries(Array.from({ length: 3 }, (_, i) => [`X-${i}`, 'v'.repeat(4000)]));
    expect(issues({ url: URL_, headers: large })).toEqual(['headers']);
  });

  it.each([
    'Host',
    'connection',
    'Keep-Alive',
    'Proxy-Connection',
    'Proxy-Authorization',
    'TE',
    'Trailer',
    'Transfer-Encoding',
    'Upgrade',
    'Content-Length',
    'Expect',
    'Idempotency-Key',
    'Jobline-Signature',
    'jobline-job-id',
  ])('refuses the header %s', (name) => {
    expect(isForbiddenHttpJobHeader(name)).toBe(true);
    expect(issues({ url: URL_, headers: { [name]: 'x' } })).toEqual([`headers.${name}`]);
  });

  it.each(['Authorization', 'Content-Type', 'User-Agent', 'Accept', 'X-Jobline'])('allows the header %s', (name) => {
    expect(issues({ url: URL_, headers: { [name]: 'x' } })).toEqual([]);
  });

  it('keeps a stored response under the tenant and the job, served at the job’s result path', () => {
    expect(httpJobResponseKey('acme', 'j-1')).toBe('acme/jobs/j-1/response');
    expect(httpJobResultPath('j-1')).toBe('/v1/jobs/j-1/result');
  });
});
