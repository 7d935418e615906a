import { CALLBACK_DELIVERY_HEADER, verifyCallbackSignature, type JobView } from '@jobline/libs';
import { readJson, testNamespace, waitFor } from '@jobline/libs/testing';
import { startHttpReceiver, type HttpReceiver } from './http-receiver';
import { startMailCapture, type MailCapture } from './mail-capture';
import { startJobline, type Jobline } from './service-process';

const AUTH = { authorization: 'Bearer hooks-token' };

describe('job callbacks (callbackUrl) and mails (notify) through the whole pipeline', () => {
  const ns = testNamespace();
  let jobline: Jobline;
  let base: string;
  let receiver: HttpReceiver;
  let hooks: string;
  let smtp: MailCapture;
  /** Statuses to answer per path, in order; then 200. */
  const script: Record<string, number[]> = { '/flaky': [500, 503] };

  const submit = async (body: unknown) =>
    fetch(`${base}/v1/jobs`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const hitsOf = (path: string) => receiver.hitsOf(path);

  beforeAll(async () => {
    receiver = await startHttpReceiver((path) => ({ status: script[path]?.shift() ?? 200 }));
    hooks = receiver.url;
    smtp = await startMailCapture();
    jobline = await startJobline(ns, (api) => ({
      API_TOKENS: 'hooks-token:hooks',
      CALLBACK_SIGNING_KEY: 'e2e-callback-signing-key',
      // The receiver is on loopback, which callbacks may only reach when allowed.
      OUTBOUND_ALLOWLIST: '127.0.0.1/32',
      SMTP_URL: smtp.url,
      PUBLIC_BASE_URL: api,
    }));
    base = jobline.base;
  });

  afterAll(async () => {
    await jobline.stop();
    await receiver.close();
    await smtp.close();
  });

  it('POSTs the finished job view to callbackUrl, signed with the tenant secret', async () => {
    const res = await submit({ type: 'noop', callbackUrl: `${hooks}/done`, metadata: { order: '42' } });
    expect(res.status).toBe(202);
    const job = (await readJson(res)) as JobView;

    const [hit] = await waitFor(() => (hitsOf('/done').length > 0 ? hitsOf('/done') : undefined), {
      timeoutMs: 30_000,
      description: 'the callback',
    });
    const view = JSON.parse(hit!.body) as JobView;
    expect(view).toMatchObject({ id: job.id, status: 'completed', metadata: { order: '42' } });

    const secret = (await readJson(await fetch(`${base}/v1/callbacks/secret`, { headers: AUTH }))) as {
      secret: string;
      signatureHeader: string;
    };
    const signature = hit!.headers[secret.signatureHeader.toLowerCase()] as string;
    const now = Math.floor(Date.now() / 1000);
    expect(verifyCallbackSignature(secret.secret, signature, hit!.body, now)).toEqual({
      ok: true,
      timestamp: expect.any(Number),
    });
    expect(verifyCallbackSignature(secret.secret, signature, hit!.body.replace('42', '43'), now).ok).toBe(false);
  });

  it('retries a callback the receiver failed, with the same delivery id, until it is taken', async () => {
    const res = await submit({
      type: 'sleep',
      payload: { ms: 1, failAttempts: 5 },
      maxAttempts: 1,
      callbackUrl: `${hooks}/flaky`,
    });
    expect(res.status).toBe(202);
    const job = (await readJson(res)) as JobView;

    const flaky = await waitFor(() => (hitsOf('/flaky').length >= 3 ? hitsOf('/flaky') : undefined), {
      timeoutMs: 30_000,
      description: 'three callback attempts',
    });
    const deliveryIds = new Set(flaky.map((h) => h.headers[CALLBACK_DELIVERY_HEADER.toLowerCase()]));
    expect(deliveryIds.size).toBe(1);
    expect(flaky.map((h) => (JSON.parse(h.body) as JobView).status)).toEqual(['failed', 'failed', 'failed']);
    expect(JSON.parse(flaky[0]!.body)).toMatchObject({ id: job.id, error: { retryable: true } });
  });

  it.each([
    ['a private address', 'http://10.0.0.1/hook'],
    ['the metadata address', 'http://169.254.169.254/latest/meta-data'],
    ['a non-http scheme', 'file:///etc/passwd'],
    ['credentials in the URL', 'https://user:pass@hooks.example.com/x'],
  ])('refuses %s as callbackUrl with a 400 naming the field', async (_case, callbackUrl) => {
    const res = await submit({ type: 'noop', callbackUrl });
    expect(res.status).toBe(400);
    const problem = await readJson(res);
    expect(problem).toMatchObject({
      code: 'VALIDATION_FAILED',
      errors: [expect.objectContaining({ field: 'callbackUrl' })],
    });
  });

  it('mails notify.email when the job completes, with a link that shows the job', async () => {
    const res = await submit({ type: 'sleep', payload: { ms: 10 }, notify: { email: 'ada@example.com' } });
    expect(res.status).toBe(202);
    const job = (await readJson(res)) as JobView;

    const mail = await waitFor(() => smtp.mails.find((m) => m.text?.includes(job.id)), {
      timeoutMs: 30_000,
      description: 'the mail',
    });
    expect(mail.subject).toBe('Your sleep job is done');
    expect(mail.to).toMatchObject({ text: 'ada@example.com' });
    const link = /(http:\/\/\S+)/.exec(mail.text ?? '')![1]!;
    expect(link).toBe(`${base}/v1/jobs/${job.id}`);
    const followed = await fetch(link, { headers: AUTH });
    expect(followed.status).toBe(200);
    expect(await readJson(followed)).toMatchObject({ id: job.id, status: 'completed' });
  });

  it('refuses a notify address that is not an email address, naming the field', async () => {
    const res = await submit({ type: 'noop', notify: { email: 'not-an-address' } });
    expect(res.status).toBe(400);
    expect(await readJson(res)).toMatchObject({ errors: [expect.objectContaining({ field: 'notify.email' })] });
  });
});
