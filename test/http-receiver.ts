import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver took. */
export interface Hit {
  path: string;
  /** When the request reached the receiver (epoch ms). */
  at: number;
  body: string;
  headers: IncomingHttpHeaders;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** A local HTTP server standing in for a webhook target: it records every request and answers as `answer` says. */
export interface HttpReceiver {
  readonly url: string;
  readonly hits: Hit[];
  hitsOf(path: string): Hit[];
  close(): Promise<void>;
}

export async function startHttpReceiver(answer: (path: string) => Answer): Promise<HttpReceiver> {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      hits.push({ path, at: Date.now(), body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
      const { status, headers, body } = answer(path);
      res.writeHead(status, headers).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    hitsOf: (path) => hits.filter((h) => h.path === path),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
