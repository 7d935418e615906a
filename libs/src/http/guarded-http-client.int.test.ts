import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { JoblineError, type ErrorCode } from '../errors/jobline-error';
import { waitFor } from '../testing/wait-for';
import { parseOutboundAllowList } from './address-policy';
import { createGuardedHttpClient, type GuardedHttpClient, type OutboundLookup } from './guarded-http-client';

const CAP = 1024;

/** A local server whose routes play the parts of well-behaved and hostile webhook receivers. */
function startServer(): Promise<{ server: Server; port: number; connections: () => number; seen: string[] }> {
  const seen: string[] = [];
  let connections = 0;
  let port = 0;
  const routes: Record<string, (req: IncomingMessage, res: ServerResponse, body: string) => void> = {
    '/ok': (_req, res) => res.end('hello'),
    '/fail': (_req, res) => res.writeHead(500).end('boom'),
    '/loop': (_req, res) => res.writeHead(302, { location: '/loop' }).end(),
    '/to-ok': (_req, res) => res.writeHead(302, { location: '/ok' }).end(),
    '/to-loopback': (_req, res) => res.writeHead(302, { location: `http://127.0.0.1:${port}/ok` }).end(),
    '/to-echo-303': (_req, res) => res.writeHead(303, { location: '/echo' }).end(),
    '/to-echo-307': (_req, res) => res.writeHead(307, { location: '/echo' }).end(),
    '/to-loopback-echo': (_req, res) => res.writeHead(307, { location: `http://127.0.0.1:${port}/echo` }).end(),
    '/to-ftp': (_req, res) => res.writeHead(302, { location: 'ftp://example.com/' }).end(),
    '/echo': (req, res, body) =>
      res
        .setHeader('content-type', 'application/json')
        .end(JSON.stringify({ method: req.method, body, headers: req.headers })),
    '/big-declared': (_req, res) => res.writeHead(200, { 'content-length': CAP + 1 }).end(Buffer.alloc(CAP + 1)),
    '/big-chunked': (_req, res) => {
      res.write(Buffer.alloc(CAP));
      res.end(Buffer.alloc(1));
    },
    '/exact': (_req, res) => res.end(Buffer.alloc(CAP, 'x')),
    '/cut': (_req, res) => {
      res.writeHead(200, { 'content-length': CAP });
      res.write('the first bytes', () => res.destroy());
    },
    '/hang': () => undefined,
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      seen.push(`${req.method} ${path}`);
      const route = routes[path];
      if (route) route(req, res, Buffer.concat(chunks).toString());
      else res.writeHead(404).end();
    });
  });
  server.on('connection', () => (connections += 1));
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      port = (server.address() as AddressInfo).port;
      resolve({ server, port, connections: () => connections, seen });
    });
  });
}

/** Resolves the test's names without DNS: `rebind.test` plays a name that an attacker points at loopback. */
const lookup: OutboundLookup = async (hostname) => {
  const table: Record<string, { address: string; family: number }[]> = {
    'rebind.test': [{ address: '127.0.0.1', family: 4 }],
    'trusted.test': [{ address: '127.0.0.1', family: 4 }],
    'metadata.test': [{ address: '169.254.169.254', family: 4 }],
    'mixed.test': [
      { address: '93.184.216.34', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ],
  };
  const found = table[hostname];
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
  return found;
};

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the request to fail');
}

async function failure(promise: Promise<unknown>, code: ErrorCode): Promise<JoblineError> {
  const err = await rejection(promise);
  if (!(err instanceof JoblineError)) throw err;
  expect(err.code).toBe(code);
  return err;
}

describe('createGuardedHttpClient', () => {
  let target: Awaited<ReturnType<typeof startServer>>;
  let base: string;
  const clients: GuardedHttpClient[] = [];
  const client = (options: Parameters<typeof createGuardedHttpClient>[0] = {}) => {
    const created = createGuardedHttpClient({ lookup, maxResponseBytes: CAP, ...options });
    clients.push(created);
    return created;
  };
  const loopbackAllowed = () => client({ allowList: parseOutboundAllowList('127.0.0.1/32') });

  beforeAll(async () => {
    target = await startServer();
    base = `http://127.0.0.1:${target.port}`;
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  afterAll(async () => {
    target.server.closeAllConnections();
    await new Promise((resolve) => target.server.close(resolve));
  });

  describe('refuses blocked addresses before connecting', () => {
    it.each([
      ['a loopback literal', () => `${base}/ok`, '127.0.0.1 is a loopback address'],
      ['a private literal', () => 'http://10.0.0.1/ok', '10.0.0.1 is a private address'],
      ['the metadata address', () => 'http://169.254.169.254/latest/meta-data/', '169.254.169.254 is a cloud metadata'],
      ['localhost', () => `http://localhost:${target.port}/ok`, 'localhost is a loopback name'],
      [
        'a name resolving to loopback',
        () => `http://rebind.test:${target.port}/ok`,
        'rebind.test resolves to 127.0.0.1 is a loopback address',
      ],
      ['a name resolving to metadata', () => 'http://metadata.test/', 'metadata.test resolves to 169.254.169.254'],
      [
        'a name with one blocked address among others',
        () => `http://mixed.test:${target.port}/ok`,
        'mixed.test resolves to 127.0.0.1',
      ],
    ])('%s', async (_name, url, message) => {
      const before = target.connections();

      // A connection attempt to 10.0.0.1 would outlast this deadline and fail with OUTBOUND_TIMEOUT instead.
      const err = await failure(client().request({ url: url(), timeoutMs: 300 }), 'OUTBOUND_ADDRESS_BLOCKED');

      expect(err.message).toContain(message);
      expect(err.retryable).toBe(false);
      expect(target.connections()).toBe(before);
    });
  });

  it('reaches an allow-listed address and returns status, headers, body and final URL', async () => {
    const response = await loopbackAllowed().request({ url: `${base}/ok` });

    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('hello');
    expect(response.headers['content-length']).toBe('5');
    expect(response.url).toBe(`${base}/ok`);
    expect(response.redirects).toBe(0);
  });

  it('resolves names with the system resolver unless told otherwise', async () => {
    const http = createGuardedHttpClient({ allowList: parseOutboundAllowList('127.0.0.1/32,::1/128') });
    clients.push(http);

    const response = await http.request({ url: `http://localhost:${target.port}/ok` });

    expect(response.body.toString()).toBe('hello');
  });

  it('returns a 500 rather than throwing', async () => {
    const response = await loopbackAllowed().request({ url: `${base}/fail` });

    expect(response.status).toBe(500);
    expect(response.body.toString()).toBe('boom');
  });

  describe('a hostname trusted by name', () => {
    const trusted = () => client({ allowList: parseOutboundAllowList('trusted.test') });

    it('connects whatever it resolves to', async () => {
      const response = await trusted().request({ url: `http://trusted.test:${target.port}/ok` });

      expect(response.body.toString()).toBe('hello');
    });

    it('may redirect to another path on itself', async () => {
      const response = await trusted().request({ url: `http://trusted.test:${target.port}/to-ok` });

      expect(response.status).toBe(200);
      expect(response.body.toString()).toBe('hello');
      expect(response.url).toBe(`http://trusted.test:${target.port}/ok`);
      expect(response.redirects).toBe(1);
    });

    it('may not redirect into loopback', async () => {
      const seenBefore = target.seen.length;

      const err = await failure(
        trusted().request({ url: `http://trusted.test:${target.port}/to-loopback` }),
        'OUTBOUND_ADDRESS_BLOCKED',
      );

      expect(err.message).toBe('redirect to 127.0.0.1 is a loopback address');
      expect(target.seen.slice(seenBefore)).toEqual(['GET /to-loopback']);
    });
  });

  it('fails after too many redirects, having followed exactly maxRedirects', async () => {
    const seenBefore = target.seen.length;

    const err = await failure(loopbackAllowed().request({ url: `${base}/loop` }), 'OUTBOUND_TOO_MANY_REDIRECTS');

    expect(err.retryable).toBe(false);
    expect(target.seen.slice(seenBefore)).toEqual(Array(4).fill('GET /loop'));
  });

  it('refuses a redirect to a scheme other than http(s)', async () => {
    await failure(loopbackAllowed().request({ url: `${base}/to-ftp` }), 'OUTBOUND_URL_INVALID');
  });

  it('turns a POST into a GET without body on 303, and repeats it on 307', async () => {
    const http = loopbackAllowed();
    const post = { method: 'POST', body: '{"done":true}', headers: { 'content-type': 'application/json' } };

    const after303 = await http.request({ ...post, url: `${base}/to-echo-303` });
    const after307 = await http.request({ ...post, url: `${base}/to-echo-307` });

    expect(JSON.parse(after303.body.toString())).toMatchObject({ method: 'GET', body: '' });
    expect(JSON.parse(after303.body.toString()).headers['content-type']).toBeUndefined();
    expect(JSON.parse(after307.body.toString())).toMatchObject({
      method: 'POST',
      body: '{"done":true}',
      headers: { 'content-type': 'application/json', 'user-agent': 'jobline' },
    });
  });

  it('drops Authorization when a redirect leaves the origin', async () => {
    const http = client({ allowList: parseOutboundAllowList('trusted.test,127.0.0.1/32') });
    const headers = { authorization: 'Bearer s3cr3t', 'x-signature': 'sig' };

    const sameOrigin = await http.request({ url: `${base}/to-echo-307`, headers });
    const crossOrigin = await http.request({ url: `http://trusted.test:${target.port}/to-loopback-echo`, headers });

    expect(JSON.parse(sameOrigin.body.toString()).headers).toMatchObject(headers);
    expect(JSON.parse(crossOrigin.body.toString()).headers.authorization).toBeUndefined();
    expect(JSON.parse(crossOrigin.body.toString()).headers['x-signature']).toBe('sig');
  });

  it.each(['/big-declared', '/big-chunked'])('refuses a body over the cap (%s)', async (path) => {
    const err = await failure(loopbackAllowed().request({ url: `${base}${path}` }), 'OUTBOUND_RESPONSE_TOO_LARGE');

    expect(err.retryable).toBe(false);
  });

  it.each([
    ['declares a length over the cap', '/big-declared', 'OUTBOUND_RESPONSE_TOO_LARGE'],
    ['sends more than the cap', '/big-chunked', 'OUTBOUND_RESPONSE_TOO_LARGE'],
    ['is cut off', '/cut', 'OUTBOUND_NETWORK'],
  ] as const)(
    'keeps the failure of a streamed body that %s for its reader, however late it comes',
    async (_what, path, code) => {
      const response = await loopbackAllowed().stream({ url: `${base}${path}`, maxBytes: CAP });

      // Nobody reads the body yet (the caller is still busy with the head): its failure must not reach the process.
      await new Promise((resolve) => response.body.once('close', resolve));
      await failure(pipeline(response.body, new PassThrough().resume()), code);
    },
  );

  it('does not hold the length a HEAD response declares against the cap', async () => {
    const response = await loopbackAllowed().request({ method: 'HEAD', url: `${base}/big-declared` });

    expect(response.status).toBe(200);
    expect(response.body.length).toBe(0);
  });

  it('reads a body of exactly the cap', async () => {
    const response = await loopbackAllowed().request({ url: `${base}/exact` });

    expect(response.body.length).toBe(CAP);
  });

  it('times out on a server that never answers, as a retryable error', async () => {
    const seenBefore = target.seen.length;

    const err = await failure(loopbackAllowed().request({ url: `${base}/hang`, timeoutMs: 200 }), 'OUTBOUND_TIMEOUT');

    expect(err.retryable).toBe(true);
    expect(target.seen.slice(seenBefore)).toEqual(['GET /hang']);
  });

  it("rejects with the caller's reason when its signal aborts", async () => {
    const caller = new AbortController();
    const seenBefore = target.seen.length;
    const pending = rejection(loopbackAllowed().request({ url: `${base}/hang`, signal: caller.signal }));

    await waitFor(() => target.seen.length > seenBefore, { timeoutMs: 5_000, description: 'the request to arrive' });
    const reason = new Error('job cancelled');
    caller.abort(reason);

    expect(await pending).toBe(reason);
  });

  it('reports a refused connection as a retryable network error', async () => {
    const closed = await startServer();
    await new Promise((resolve) => closed.server.close(resolve));

    const err = await failure(
      loopbackAllowed().request({ url: `http://127.0.0.1:${closed.port}/` }),
      'OUTBOUND_NETWORK',
    );

    expect(err.retryable).toBe(true);
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('reports a name that does not resolve as a retryable network error', async () => {
    const err = await failure(client().request({ url: 'http://unknown.test/' }), 'OUTBOUND_NETWORK');

    expect(err.retryable).toBe(true);
    expect(err.message).toContain('ENOTFOUND');
  });
});
