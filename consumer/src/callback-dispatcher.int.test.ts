import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import {
  CALLBACK_DELIVERY_HEADER,
  CALLBACK_SIGNATURE_HEADER,
  connectMongo,
  createLogger,
  ensureIndexes,
  joblineCollections,
  tenantCallbackSecret,
  verifyCallbackSignature,
  type CallbackDeliveryDocument,
  type JoblineCollections,
  type JobView,
  type MongoConnection,
} from '@jobline/libs';
import { testInfra, testNamespace, waitFor } from '@jobline/libs/testing';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { createCallbackDispatcher, type CallbackDispatcher, type CallbackPoster } from './callback-dispatcher';
import { createJobMailer, type JobMailer } from './job-mailer';

const logger = createLogger({ service: 'test', level: 'error' });
const KEY = 'test-signing-key';

interface Received {
  path: string;
  body: string;
  headers: IncomingMessage['headers'];
}

/** A receiver that answers each request of a path with the next status of that path's script (the last one repeats). */
async function startReceiver(scripts: Record<string, number[]>) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
      const script = scripts[path] ?? [200];
      const seen = received.filter((r) => r.path === path).length;
      res.statusCode = script[Math.min(seen, script.length) - 1]!;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const post: CallbackPoster = async ({ url, body, headers }) => {
  const res = await fetch(url, { method: 'POST', body, headers });
  return { status: res.status };
};

function view(id: string, status: JobView['status'] = 'completed'): JobView {
  const at = new Date().toISOString();
  return {
    id,
    type: 'noop',
    status,
    attempts: 1,
    maxAttempts: 3,
    priority: 5,
    progress: null,
    result: { ok: true },
    resultUrl: null,
    error: null,
    metadata: {},
    runAt: null,
    createdAt: at,
    updatedAt: at,
    startedAt: at,
    finishedAt: at,
  };
}

describe('callback dispatcher against MongoDB and a real HTTP receiver', () => {
  const ns = testNamespace();
  let mongo: MongoConnection;
  let collections: JoblineCollections;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let dispatcher: CallbackDispatcher | undefined;
  let smtp: SMTPServer;
  let mailer: JobMailer;
  const mails: ParsedMail[] = [];

  const outcome = (id: string, status: CallbackDeliveryDocument['status']) =>
    waitFor(
      async () => {
        const doc = await collections.callbackDeliveries.findOne({ _id: id });
        return doc?.status === status ? doc : undefined;
      },
      { timeoutMs: 15_000, description: `delivery ${id} to be ${status}` },
    );

  async function enqueue(path: string, overrides: Partial<CallbackDeliveryDocument> = {}) {
    const jobId = randomUUID();
    const doc: CallbackDeliveryDocument = {
      _id: randomUUID(),
      jobId,
      tenantId: 'acme',
      url: `${receiver.base}${path}`,
      view: view(jobId),
      status: 'pending',
      attempts: 0,
      nextAttemptAt: new Date(),
      leaseUntil: null,
      lastError: null,
      lastStatus: null,
      createdAt: new Date(),
      deliveredAt: null,
      ...overrides,
    };
    await collections.callbackDeliveries.insertOne(doc);
    dispatcher?.wake();
    return doc;
  }

  beforeAll(async () => {
    mongo = await connectMongo(testInfra().mongoUri, ns.database);
    collections = joblineCollections(mongo.db);
    await ensureIndexes(collections);
    receiver = await startReceiver({
      '/flaky': [500, 503, 204],
      '/gone': [404],
      '/down': [503],
    });
    // A real SMTP server: it takes mail for anyone but refuses one mailbox for good.
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo(address, _session, callback) {
        if (address.address === 'nobody@example.com') {
          return callback(Object.assign(new Error('no such mailbox'), { responseCode: 550 }));
        }
        callback();
      },
      onData(stream, _session, callback) {
        simpleParser(stream).then(
          (mail) => {
            mails.push(mail);
            callback();
          },
          (err: Error) => callback(err),
        );
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    mailer = createJobMailer({
      smtpUrl: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`,
      from: 'jobline <jobline@example.com>',
      publicBaseUrl: 'https://jobs.example.com/',
      timeoutMs: 5000,
    });
    dispatcher = createCallbackDispatcher({
      deliveries: collections.callbackDeliveries,
      post,
      mail: (to, view) => mailer.send(to, view),
      secretFor: (tenantId) => tenantCallbackSecret(KEY, tenantId),
      logger,
      now: () => new Date(),
      maxAttempts: 4,
      backoff: { type: 'fixed', delayMs: 20 },
      pollMs: 50,
    });
    dispatcher.start();
  });

  afterAll(async () => {
    await dispatcher?.stop();
    mailer.close();
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
    await receiver.close();
    await mongo.db.dropDatabase();
    await mongo.client.close();
  });

  it('POSTs the job view once, signed with the tenant secret over timestamp and body', async () => {
    const doc = await enqueue('/ok');
    const delivered = await outcome(doc._id, 'delivered');
    expect(delivered).toMatchObject({ attempts: 1, lastStatus: 200, lastError: null });

    const requests = receiver.received.filter((r) => r.headers[CALLBACK_DELIVERY_HEADER.toLowerCase()] === doc._id);
    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(JSON.parse(request!.body)).toEqual(doc.view);
    expect(request!.headers['content-type']).toBe('application/json');
    const signature = request!.headers[CALLBACK_SIGNATURE_HEADER.toLowerCase()] as string;
    const now = Math.floor(Date.now() / 1000);
    expect(verifyCallbackSignature(tenantCallbackSecret(KEY, 'acme'), signature, request!.body, now).ok).toBe(true);
    expect(verifyCallbackSignature(tenantCallbackSecret(KEY, 'globex'), signature, request!.body, now).ok).toBe(false);
  });

  it('retries server errors with the same delivery id until the receiver takes it', async () => {
    const doc = await enqueue('/flaky');
    const delivered = await outcome(doc._id, 'delivered');
    expect(delivered).toMatchObject({ attempts: 3, lastStatus: 204 });
    const ids = receiver.received
      .filter((r) => r.path === '/flaky')
      .map((r) => r.headers[CALLBACK_DELIVERY_HEADER.toLowerCase()]);
    expect(ids).toEqual([doc._id, doc._id, doc._id]);
  });

  it('fails at once on a 4xx, and after the last attempt on server errors', async () => {
    const gone = await enqueue('/gone');
    const down = await enqueue('/down');
    expect(await outcome(gone._id, 'failed')).toMatchObject({
      attempts: 1,
      lastStatus: 404,
      lastError: 'answered 404',
    });
    expect(await outcome(down._id, 'failed')).toMatchObject({ attempts: 4, lastStatus: 503 });
    expect(receiver.received.filter((r) => r.path === '/down')).toHaveLength(4);
  });

  it('takes over a delivery whose dispatcher died mid-attempt once its lease ends', async () => {
    const orphan = await enqueue('/orphan', {
      status: 'delivering',
      attempts: 1,
      leaseUntil: new Date(Date.now() - 1000),
    });
    const leased = await enqueue('/leased', {
      status: 'delivering',
      attempts: 1,
      leaseUntil: new Date(Date.now() + 3_600_000),
    });
    expect(await outcome(orphan._id, 'delivered')).toMatchObject({ attempts: 2 });
    // A delivery whose lease still runs belongs to another dispatcher: never sent twice at once.
    expect(await collections.callbackDeliveries.findOne({ _id: leased._id })).toMatchObject({ status: 'delivering' });
    expect(receiver.received.some((r) => r.path === '/leased')).toBe(false);
  });

  it('mails notify addresses the outcome and the link over SMTP, and gives up on a refused mailbox', async () => {
    const ok = await enqueue('', { url: 'mailto:ada@example.com' });
    const refused = await enqueue('', { url: 'mailto:nobody@example.com' });
    expect(await outcome(ok._id, 'delivered')).toMatchObject({ attempts: 1 });
    expect(await outcome(refused._id, 'failed')).toMatchObject({ attempts: 1 });

    const mail = mails.find((m) => m.text?.includes(ok.jobId));
    expect(mail).toBeDefined();
    expect(mail!.subject).toBe('Your noop job is done');
    expect(mail!.to).toMatchObject({ text: 'ada@example.com' });
    expect(mail!.text).toContain(`https://jobs.example.com/v1/jobs/${ok.jobId}`);
    expect(mails.some((m) => m.text?.includes(refused.jobId))).toBe(false);
  });
});
