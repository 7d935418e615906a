import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { JobView } from '@jobline/libs';
import { readJson, testNamespace, waitFor } from '@jobline/libs/testing';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { assertDashboardBuilt, launchChromium, screenshot } from './browser';
import { startJobline, type Jobline } from './service-process';

const TOKEN = 'dashboard-token';
const AUTH = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

/**
 * The dashboard in Chromium against the three services: every view is driven as a person would, and what it shows
 * is checked against what the API did. The screenshots it takes are the README's (JOBLINE_UPDATE_SCREENSHOTS=1).
 */
describe('dashboard at /ui', () => {
  const ns = testNamespace();
  const blobDir = `/tmp/jobline-blobs-${ns.database}`;
  let jobline: Jobline;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  const api = async <T = JobView>(path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${jobline.base}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: AUTH,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    expect(res.status).toBeLessThan(300);
    return readJson(res);
  };
  const statusOf = async (id: string) => (await api(`/v1/jobs/${id}`)).status;
  /** Waits for the API to show the job in `status`; a timeout names the view it showed last. */
  const untilStatus = async (id: string, status: string) => {
    let last: JobView | undefined;
    await waitFor(
      async () => {
        last = await api<JobView>(`/v1/jobs/${id}`);
        return last.status === status;
      },
      { timeoutMs: 20_000, description: `job ${id} ${status}` },
    ).catch((err: Error) => {
      throw new Error(`${err.message}; it was ${JSON.stringify(last)}`);
    });
  };

  /** The live status the page shows for a job (its page's badge, or its row in a table). */
  const shownStatus = (id: string) => page.locator(`[data-job-id="${id}"]`).getAttribute('data-status');

  async function signIn(target: Page, token = TOKEN) {
    await target.goto(`${jobline.base}/ui/`);
    await target.getByLabel('API token').fill(token);
    await target.getByRole('button', { name: 'Sign in' }).click();
  }

  beforeAll(async () => {
    assertDashboardBuilt();
    [jobline, browser] = await Promise.all([
      startJobline(ns, {
        API_TOKENS: `${TOKEN}:acme,other-token:other`,
        SSE_HEARTBEAT_MS: '500',
        BLOB_DIR: blobDir,
        // The timer's URL is on loopback (it is cancelled long before it is due).
        OUTBOUND_ALLOWLIST: '127.0.0.1/32',
      }),
      launchChromium(),
    ]);
    context = await browser.newContext({ viewport: { width: 1280, height: 860 }, colorScheme: 'light' });
    page = await context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await jobline?.stop();
    await rm(blobDir, { recursive: true, force: true });
  });

  it('refuses a token the API does not accept, and keeps no session', async () => {
    await signIn(page, 'not-a-token');
    await expect(page.getByText('That token was not accepted (401)').waitFor()).resolves.toBeUndefined();
    await screenshot(page, 'sign-in');
    const kept = await page.evaluate(
      () => (globalThis as unknown as { sessionStorage: { length: number } }).sessionStorage.length,
    );
    expect(kept).toBe(0);
  });

  it('signs in with the keyboard alone and shows the overview of the token’s tenant', async () => {
    await page.goto(`${jobline.base}/ui/`);
    // Focus starts in the token field; Enter submits the form.
    const field = page.getByLabel('API token');
    await field.waitFor();
    await expect(field.evaluate((input) => input === input.ownerDocument.activeElement)).resolves.toBe(true);
    await page.keyboard.type(TOKEN);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await expect(page.getByTestId('tenant').textContent()).resolves.toContain('acme');
    await page.locator('[data-testid="live-indicator"][data-live="true"]').waitFor();
  });

  it('submits a job through the form drawn from its schema and watches it complete without a reload', async () => {
    await page.goto(`${jobline.base}/ui/new`);
    await page.getByRole('combobox', { name: 'Type' }).click();
    await page.getByRole('option', { name: 'sleep', exact: true }).click();
    // The API's field errors come back at their fields: `ms` is required by the payload's schema.
    await page.getByRole('button', { name: 'Create job' }).click();
    await page.getByText('VALIDATION_FAILED', { exact: false }).first().waitFor();
    await page.getByRole('textbox', { name: /^ms/ }).fill('1500');
    await screenshot(page, 'new-job');
    await page.getByRole('button', { name: 'Create job' }).click();

    await page.waitForURL(/\/ui\/jobs\/[0-9a-f-]{36}$/);
    const id = page.url().split('/').pop()!;
    // A mark on the page's global object survives as long as the page is not loaded again.
    await page.evaluate(() => ((globalThis as { notReloaded?: boolean }).notReloaded = true));
    await page.locator('[data-testid="job-status"][data-status="completed"]').waitFor({ timeout: 20_000 });
    expect(await page.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded)).toBe(true);
    await expect(statusOf(id)).resolves.toBe('completed');
    await page.locator('[data-event-type="JobCompleted"]').waitFor();
    await screenshot(page, 'job');
  });

  it('shows new jobs and their status changes in the jobs table as they happen', async () => {
    await page.goto(`${jobline.base}/ui/jobs`);
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    await page.locator('[data-testid="live-indicator"][data-live="true"]').waitFor();
    const job = await api('/v1/jobs', { type: 'sleep', payload: { ms: 1200 } });
    await page.locator(`[data-job-id="${job.id}"]`).waitFor();
    await waitFor(async () => (await shownStatus(job.id)) === 'completed', {
      timeoutMs: 20_000,
      description: 'the row to turn completed',
    });
    await screenshot(page, 'jobs');

    // Filtered by metadata, the table keeps only the matching job, also as it changes.
    const tagged = await api('/v1/jobs', { type: 'noop', metadata: { team: 'red' } });
    await page.getByRole('textbox', { name: 'Metadata' }).fill('team=red');
    await page.getByRole('textbox', { name: 'Metadata' }).press('Enter');
    // The tagged job may already be on the page, added live before the filter applied: wait for the others to go.
    await waitFor(async () => (await page.locator('[data-job-id]').count()) === 1, {
      timeoutMs: 10_000,
      description: 'the table to keep one job',
    });
    await page.locator(`[data-job-id="${tagged.id}"]`).waitFor();
  });

  it('cancels a running job and shows what the API answered', async () => {
    const job = await api('/v1/jobs', { type: 'sleep', payload: { ms: 60_000 } });
    await page.goto(`${jobline.base}/ui/jobs/${job.id}`);
    await page.locator('[data-testid="job-status"][data-status="processing"]').waitFor({ timeout: 20_000 });
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('api-answer').filter({ hasText: 'Done: 202' }).waitFor();
    await untilStatus(job.id, 'cancelled');
    await page.locator('[data-testid="job-status"][data-status="cancelled"]').waitFor({ timeout: 20_000 });
    // A cancelled job cannot be cancelled again: the button says so by being disabled.
    await expect(page.getByRole('button', { name: 'Cancel' }).isDisabled()).resolves.toBe(true);
  });

  it('retries a failed job from its page and follows it to completion', async () => {
    const job = await api('/v1/jobs', { type: 'sleep', payload: { ms: 10, failAttempts: 1 }, maxAttempts: 1 });
    await untilStatus(job.id, 'failed');
    await page.goto(`${jobline.base}/ui/jobs/${job.id}`);
    await page.locator('[data-testid="job-status"][data-status="failed"]').waitFor();
    await page.getByTestId('job-error').filter({ hasText: 'HANDLER_FAILED' }).waitFor();
    await page.getByRole('button', { name: 'Retry' }).click();
    await page.getByTestId('api-answer').filter({ hasText: 'Done: 202' }).waitFor();
    await page.locator('[data-testid="job-status"][data-status="completed"]').waitFor({ timeout: 20_000 });
    await page.locator('[data-event-type="JobRetryRequested"]').waitFor();
  });

  it('redrives a dead letter from the dead-letter view and watches it run again', async () => {
    const job = await api('/v1/jobs', { type: 'sleep', payload: { ms: 10, failAttempts: 1 }, maxAttempts: 1 });
    await untilStatus(job.id, 'failed');

    await page.goto(`${jobline.base}/ui/dead-letters`);
    const groups = page.getByTestId('dead-letter-groups');
    await groups.getByText('HANDLER_FAILED').waitFor();
    await page.locator(`[data-job-id="${job.id}"][data-status="failed"]`).waitFor();
    await screenshot(page, 'dead-letters');
    await page.getByRole('checkbox', { name: `Select job ${job.id}` }).check();
    await page.getByRole('button', { name: 'Redrive selected (1)' }).click();
    await expect(page.getByTestId('api-answer').textContent()).resolves.toContain('1 of 1 accepted');
    // The second attempt succeeds; the row follows it live.
    await waitFor(async () => (await shownStatus(job.id)) === 'completed', {
      timeoutMs: 20_000,
      description: 'the redriven row to turn completed',
    });
    await expect(statusOf(job.id)).resolves.toBe('completed');
  });

  it('redrives every dead letter of a group at once, by a bulk job', async () => {
    const failing = { type: 'sleep', payload: { ms: 10, failAttempts: 1 }, maxAttempts: 1 };
    const jobs = await Promise.all([api('/v1/jobs', failing), api('/v1/jobs', failing)]);
    await Promise.all(jobs.map((job) => untilStatus(job.id, 'failed')));

    await page.goto(`${jobline.base}/ui/dead-letters`);
    await page.getByRole('button', { name: 'Redrive every sleep job that failed with HANDLER_FAILED' }).click();
    const answer = page.getByTestId('bulk-answer').filter({ hasText: 'redriven by bulk job' });
    await answer.waitFor();
    const bulkId = (await answer.getByRole('link').textContent())!;
    await Promise.all(jobs.map((job) => untilStatus(job.id, 'completed')));
    await untilStatus(bulkId, 'completed');
    const bulk = await api(`/v1/jobs/${bulkId}`);
    expect(bulk).toMatchObject({ type: 'deadLetters.redrive', result: { action: 'redrive', redriven: 2 } });
    await page.getByTestId('dead-letters-waiting').filter({ hasText: '0 waiting' }).waitFor({ timeout: 10_000 });
  });

  it('uploads an import with its progress and reads its report with the rejected record', async () => {
    const lines = [
      { externalId: randomUUID(), username: 'ada', email: 'ada@example.com' },
      { externalId: randomUUID(), username: 'grace', email: 'grace@example.com' },
      { externalId: randomUUID(), username: 'alan', email: 'not-an-email' },
    ].map((record) => JSON.stringify(record));
    await page.goto(`${jobline.base}/ui/data`);
    await page.locator('input[type="file"]').setInputFiles({
      name: 'users.ndjson',
      mimeType: 'application/x-ndjson',
      buffer: Buffer.from(lines.join('\n') + '\n'),
    });
    await page.getByRole('button', { name: 'Upload' }).click();
    const report = page.getByTestId('import-report');
    // An import passes through the blob store and the import engine: on a loaded machine it has taken over 20 s.
    await report.locator('[data-status="completed"]').waitFor({ timeout: 60_000 });
    await expect(report.getByTestId('report-imported').textContent()).resolves.toBe('2');
    await expect(report.getByTestId('report-rejected').textContent()).resolves.toBe('1');
    await expect(report.getByTestId('rejected-records').textContent()).resolves.toContain('VALIDATION_FAILED');

    // The imported users come back through an export and its signed link.
    await page.getByRole('button', { name: 'Create export' }).click();
    await page.getByTestId('export-status').waitFor();
    const download = page.getByTestId('export-download');
    await download.waitFor({ timeout: 20_000 });
    const file = await page.request.get(new URL((await download.getAttribute('href'))!, jobline.base).href);
    expect(file.status()).toBe(200);
    expect(
      (await file.text())
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line).username),
    ).toEqual(expect.arrayContaining(['ada', 'grace']));
    await screenshot(page, 'imports-exports');
  });

  it('sets a timer, counts down its time left, and cancels it', async () => {
    await page.goto(`${jobline.base}/ui/timers`);
    await page.getByRole('textbox', { name: 'URL' }).fill('http://127.0.0.1:9/timer');
    await page.getByRole('textbox', { name: 'Hours' }).fill('1');
    await page.getByRole('textbox', { name: 'Minutes' }).fill('0');
    await page.getByRole('button', { name: 'Set timer' }).click();
    await expect(page.getByTestId('api-answer').textContent()).resolves.toMatch(/Done: 201.*due in (59m|1h)/);
    const left = page.getByTestId('time-left').first();
    await left.waitFor();
    expect(await left.textContent()).toMatch(/^(59m \d+s|1h 0m \d+s)$/);
    await screenshot(page, 'timers');
    await page
      .getByRole('button', { name: /^Cancel timer/ })
      .first()
      .click();
    await page.getByTestId('api-answer').filter({ hasText: 'Done: 202' }).waitFor();
    await page.locator('[data-job-id][data-status="cancelled"]').first().waitFor({ timeout: 20_000 });
  });

  it('creates a schedule through its form, lists it with its next fire times, pauses it and deletes it', async () => {
    await page.goto(`${jobline.base}/ui/schedules`);
    await page.getByRole('link', { name: 'New schedule' }).click();
    await page.getByRole('textbox', { name: 'Name' }).fill('weekday stand-up');
    const cron = page.getByRole('textbox', { name: /^Cron expression/ });
    await cron.fill('0 25 * * 1-5');
    await page.getByRole('combobox', { name: 'Time zone' }).fill('Europe/Berl');
    await page.getByRole('option', { name: 'Europe/Berlin', exact: true }).click();
    await page.getByRole('combobox', { name: 'Type' }).click();
    await page.getByRole('option', { name: 'noop', exact: true }).click();
    await page.getByRole('textbox', { name: 'Priority' }).fill('7');
    // The API refuses hour 25, and says so beside the expression.
    await page.getByRole('button', { name: 'Create schedule' }).click();
    await page.getByTestId('api-answer').filter({ hasText: 'VALIDATION_FAILED' }).waitFor();
    await expect(cron.getAttribute('aria-invalid')).resolves.toBe('true');
    await cron.fill('0 9 * * 1-5');
    await page.getByRole('button', { name: 'Create schedule' }).click();

    await page.waitForURL(/\/ui\/schedules\/[0-9a-f-]{36}$/);
    const id = page.url().split('/').pop()!;
    const created = await api<{ timeZone: string; nextFireTimes: string[]; job: { priority: number } }>(
      `/v1/schedules/${id}`,
    );
    expect(created).toMatchObject({ timeZone: 'Europe/Berlin', job: { priority: 7 } });
    await page.locator('[data-testid="schedule-status"][data-status="active"]').waitFor();
    await page.locator('[data-testid="next-fires"][data-count="5"]').waitFor();
    await screenshot(page, 'schedule');

    // The list is read from the projection, which follows the schedule's event a moment later.
    await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Schedules' }).click();
    const row = page.locator(`[data-schedule-id="${id}"]`);
    await row.waitFor({ timeout: 15_000 });
    await expect(row.locator('[data-fire-at]').first().getAttribute('data-fire-at')).resolves.toBe(
      created.nextFireTimes[0],
    );
    await expect(row.textContent()).resolves.toContain('Europe/Berlin');
    await screenshot(page, 'schedules');
    await row.getByRole('button', { name: 'Pause weekday stand-up' }).click();
    await page.locator(`[data-schedule-id="${id}"][data-status="paused"]`).waitFor();
    await row.locator('[data-testid="next-fires"][data-count="0"]').waitFor();
    await expect(api(`/v1/schedules/${id}`)).resolves.toMatchObject({ status: 'paused', nextFireTimes: [] });

    // Deleted from its page, once confirmed: gone from the list at once.
    await row.getByRole('link', { name: 'weekday stand-up' }).click();
    await page.getByRole('button', { name: 'Delete…' }).click();
    await page
      .getByRole('dialog', { name: 'Delete weekday stand-up' })
      .getByRole('button', { name: 'Delete the schedule' })
      .click();
    await page.getByTestId('api-answer').filter({ hasText: 'Done: 204' }).waitFor();
    await expect(row.count()).resolves.toBe(0);
    const gone = await fetch(`${jobline.base}/v1/schedules/${id}`, { headers: AUTH });
    expect(gone.status).toBe(404);
  });

  it('pauses a job type from the pauses view; a job of it waits, pending, and completes once resumed', async () => {
    await page.goto(`${jobline.base}/ui/pauses`);
    await page.getByRole('button', { name: 'Pause job type sleep' }).click();
    const dialog = page.getByRole('dialog', { name: 'Pause job type sleep' });
    await dialog.getByRole('textbox', { name: 'Reason' }).fill('provider outage');
    await dialog.getByRole('button', { name: 'Pause job type sleep' }).click();
    await page.locator('[data-testid="type-pauses"] [data-type="sleep"][data-paused="true"]').waitFor();
    await expect(api('/v1/pauses')).resolves.toMatchObject({ types: [{ type: 'sleep', reason: 'provider outage' }] });
    await screenshot(page, 'pauses');

    // Every other view says so; a job of the type, with the highest priority, is accepted and held.
    await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'New job' }).click();
    await page.getByTestId('paused-types-banner').filter({ hasText: 'sleep (provider outage)' }).waitFor();
    await page.getByRole('combobox', { name: 'Type' }).click();
    await page.getByRole('option', { name: 'sleep', exact: true }).click();
    await page.getByTestId('type-paused-note').waitFor();
    await page.getByRole('textbox', { name: /^ms/ }).fill('200');
    await page.getByRole('textbox', { name: 'Priority' }).fill('9');
    await page.getByRole('button', { name: 'Create job' }).click();
    await page.waitForURL(/\/ui\/jobs\/[0-9a-f-]{36}$/);
    const id = page.url().split('/').pop()!;
    await page.evaluate(() => ((globalThis as { notReloaded?: boolean }).notReloaded = true));
    await page.locator('[data-testid="job-priority"][data-priority="9"]').waitFor();
    await page.getByTestId('job-held').filter({ hasText: 'job type sleep is paused' }).waitFor();

    // A job of another type, submitted after it, runs to the end while the held one stays pending.
    const other = await api('/v1/jobs', { type: 'noop' });
    await untilStatus(other.id, 'completed');
    await expect(api(`/v1/jobs/${id}`)).resolves.toMatchObject({ status: 'pending', attempts: 0, priority: 9 });
    await page.locator('[data-testid="job-status"][data-status="pending"]').waitFor();

    await page.getByTestId('job-held').getByRole('button', { name: 'Resume job type sleep' }).click();
    await page.locator('[data-testid="job-status"][data-status="completed"]').waitFor({ timeout: 20_000 });
    expect(await page.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded)).toBe(true);
    await page.getByTestId('paused-types-banner').waitFor({ state: 'detached' });
    await expect(api('/v1/pauses')).resolves.toEqual({ tenant: null, types: [] });

    // The jobs table marks the job's priority, which is not the default.
    await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Jobs' }).click();
    await expect(page.locator(`[data-job-id="${id}"] [data-testid="priority"]`).textContent()).resolves.toBe('P9');
  });

  it('pauses the tenant as a whole once confirmed, shows it on every view, and resumes it from the banner', async () => {
    await page.goto(`${jobline.base}/ui/pauses`);
    await page.getByRole('button', { name: 'Pause the tenant…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Pause tenant acme' });
    await dialog.getByRole('textbox', { name: 'Reason' }).fill('incident 42');
    await dialog.getByRole('button', { name: 'Pause every job type' }).click();
    await page.locator('[data-testid="tenant-pause"] [data-paused="true"]').waitFor();
    await expect(api('/v1/pauses')).resolves.toMatchObject({ tenant: { reason: 'incident 42' }, types: [] });

    await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Overview' }).click();
    const banner = page.getByTestId('pause-banner');
    await banner.filter({ hasText: 'incident 42' }).waitFor();
    await banner.getByRole('button', { name: 'Resume tenant acme' }).click();
    await banner.waitFor({ state: 'detached' });
    await expect(api('/v1/pauses')).resolves.toEqual({ tenant: null, types: [] });
  });

  it('shows the overview with the work of the tests above, and the runner at work', async () => {
    const running = await api('/v1/jobs', { type: 'sleep', payload: { ms: 60_000 } });
    await untilStatus(running.id, 'processing');
    await page.goto(`${jobline.base}/ui/`);
    await page.getByTestId('runners').locator('[data-runner-id]').first().waitFor();
    const completed = page.getByTestId('stat-completed-in-the-hour').locator('[data-value]');
    await waitFor(async () => Number(await completed.getAttribute('data-value')) >= 3, {
      timeoutMs: 10_000,
      description: 'the overview to count the completed jobs',
    });
    await page.getByTestId('jobs-by-type').locator('[data-type="sleep"]').waitFor();
    await screenshot(page, 'overview');
    await api(`/v1/jobs/${running.id}/cancel`, {});
    await page.getByText('No runner is running a job of this tenant now.').waitFor({ timeout: 20_000 });
  });

  it('fits a 390 px wide screen, in dark mode, with the menu behind a button', async () => {
    const schedule = await api<{ id: string }>('/v1/schedules', {
      name: 'nightly export',
      cron: '0 2 * * *',
      timeZone: 'America/New_York',
      job: { type: 'noop' },
      paused: true,
    });
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme: 'dark' });
    const small = await phone.newPage();
    await signIn(small);
    await small.getByRole('heading', { name: 'Overview' }).waitFor();
    await small.getByTestId('stat-processing').waitFor();
    const overflow = await small
      .locator('html')
      .evaluate((html) => html.scrollWidth - html.ownerDocument.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(small, 'overview-390-dark');
    await small.getByRole('button', { name: 'Menu' }).click();
    await small.getByRole('link', { name: 'Jobs' }).click();
    await small.getByRole('heading', { name: 'Jobs' }).waitFor();
    // The views with tables scroll them within their width.
    for (const view of ['Schedules', 'Pauses']) {
      await small.getByRole('button', { name: 'Menu' }).click();
      await small.getByRole('link', { name: view }).click();
      await small.getByRole('heading', { name: view }).waitFor();
      // The schedules list is read from the projection, a moment behind the schedule's event.
      await small
        .locator(view === 'Schedules' ? `[data-schedule-id="${schedule.id}"]` : 'table')
        .waitFor({ timeout: 15_000 });
      const wider = await small
        .locator('html')
        .evaluate((html) => html.scrollWidth - html.ownerDocument.documentElement.clientWidth);
      expect(wider).toBeLessThanOrEqual(0);
    }
    await phone.close();
  });
});
