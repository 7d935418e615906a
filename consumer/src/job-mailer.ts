import nodemailer from 'nodemailer';
import { JoblineError, type JobView } from '@jobline/libs';

export interface JobMailerOptions {
  /** `smtp://user:pass@host:port` or `smtps://…`. */
  smtpUrl: string;
  /** The From header. */
  from: string;
  /** Where clients reach the API, for links in mails (`https://jobs.example.com`). */
  publicBaseUrl: string;
  /** Longest one SMTP conversation may take. */
  timeoutMs: number;
  /** Signs a download path (`/v1/exports/{id}/download`) into a link that works without a token. */
  signDownload?: (path: string) => string;
}

export interface JobMailer {
  /** Mails the job's outcome and its link to `to`. Throws a JoblineError whose `retryable` says whether to try again. */
  send(to: string, view: JobView): Promise<void>;
  close(): void;
}

/** Job types whose result is a file behind `/v1/exports/{id}/download`. */
const EXPORT_TYPES = new Set(['data.export', 'book.export']);

/**
 * The link a mail points at: a finished export's file, through a signed link that needs no token (the reader of a
 * mail has none at hand); else the job's result when it has one; else the job itself.
 */
export function jobLink(view: JobView, publicBaseUrl: string, signDownload?: (path: string) => string): string {
  const base = publicBaseUrl.replace(/\/+$/, '');
  if (signDownload && EXPORT_TYPES.has(view.type) && view.status === 'completed') {
    return `${base}${signDownload(`/v1/exports/${view.id}/download`)}`;
  }
  if (view.resultUrl) return new URL(view.resultUrl, `${base}/`).toString();
  return `${base}/v1/jobs/${view.id}`;
}

const OUTCOME: Record<string, string> = {
  completed: 'is done',
  failed: 'failed',
  cancelled: 'was cancelled',
};

export function jobMail(view: JobView, publicBaseUrl: string, signDownload?: (path: string) => string) {
  const link = jobLink(view, publicBaseUrl, signDownload);
  const outcome = OUTCOME[view.status] ?? `is ${view.status}`;
  const subject = `Your ${view.type} job ${outcome}`;
  const lines = [
    `Job ${view.id} (${view.type}) ${outcome} after ${view.attempts} attempt${view.attempts === 1 ? '' : 's'}.`,
    link.includes('/download?') || view.resultUrl ? `Result: ${link}` : `Details: ${link}`,
    ...(view.error ? [`Last error: ${view.error.code}: ${view.error.message}`] : []),
  ];
  return { subject, text: `${lines.join('\n\n')}\n`, link };
}

/**
 * Sends job mails over SMTP with nodemailer. An SMTP 5xx answer is permanent (a bad address, a refused sender) and is
 * not retried; connection failures, timeouts and 4xx answers are.
 */
export function createJobMailer(options: JobMailerOptions): JobMailer {
  const transport = nodemailer.createTransport({
    url: options.smtpUrl,
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  });
  return {
    async send(to, view) {
      const mail = jobMail(view, options.publicBaseUrl, options.signDownload);
      try {
        await transport.sendMail({ from: options.from, to, subject: mail.subject, text: mail.text });
      } catch (err) {
        const code = (err as { responseCode?: number }).responseCode;
        throw new JoblineError('HANDLER_FAILED', `mail to ${to} not sent: ${(err as Error).message}`, {
          retryable: !(code !== undefined && code >= 500),
          cause: err,
        });
      }
    },
    close: () => transport.close(),
  };
}
