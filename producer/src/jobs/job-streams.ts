import type { Request, RequestHandler, Response } from 'express';
import { createEventBuffer, createSession, type Session } from 'better-sse';
import { z } from 'zod';
import { JoblineError, isTerminal, type JobChange, type JobChangeHub, type JobView, type Logger } from '@jobline/libs';
import { jobLinks, operation, type JsonObject } from '../http/api-operation';
import { tenantOf } from '../auth/auth';
import { JobIdPath } from './jobs-router';
import { queryIssues } from './list-jobs-query';

export interface JobStreamsDeps {
  hub: JobChangeHub;
  reader: {
    find(tenantId: string, jobId: string): Promise<JobView | null>;
    changes(tenantId: string, jobId: string): Promise<JobChange[] | null>;
  };
  logger: Logger;
  /** Interval of keep-alive comments, and of a job stream's check of MongoDB for changes it was not told about. */
  heartbeatMs: number;
  /** Streams one process serves at once; more are refused with 503. */
  maxStreams: number;
}

/** The SSE event every change is sent as; its data is the job view. */
export const JOB_EVENT = 'job';
/** A reader that lets this much pile up unread is cut off; a job stream's client resumes with `Last-Event-ID`. */
const MAX_UNSENT_BYTES = 1_048_576;
const RECONNECT_MS = 2000;

const JobId = z.uuid();
/** The id of an event this stream sent; empty, as a header an EventSource has nothing for, means none. */
const LastEventId = z.string().regex(/^(\d{1,15})?$/, 'expected the id of an event this stream sent (a log offset)');
const TenantStreamQuery = z
  .object({ type: z.string().min(1).max(100).optional().describe('only jobs of this type') })
  .strict();

/**
 * One event of a stream: named `job`, its data the job view as JSON; on a job stream, its id is the log offset of the
 * change, except on a first event that shows a job accepted a moment ago, which is not in the store yet.
 */
const jobEvent = (withId: boolean): JsonObject => ({
  type: 'object',
  required: ['event', 'data'],
  properties: {
    event: { const: JOB_EVENT },
    ...(withId ? { id: { type: 'string', pattern: '^\\d{1,15}$' } } : {}),
    data: {
      type: 'string',
      contentMediaType: 'application/json',
      contentSchema: { $ref: '#/components/schemas/JobView' },
    },
  },
});

export const streamJob = operation('get', '/v1/jobs/{id}/stream', {
  operationId: 'streamJob',
  summary: 'Live updates of a job (Server-Sent Events)',
  description:
    'Each change of the job as an SSE event named `job` whose data is the JobView and whose id is the position of ' +
    'the change in the log. A new client first gets the current view; the stream ends after a terminal status. ' +
    'Comments keep the connection alive (SSE_HEARTBEAT_MS). To resume, send the last id received as ' +
    '`Last-Event-ID` (an EventSource does so by itself): every change after it follows, in order; if the client ' +
    'already saw the end, the answer is 204 so that an EventSource stops reconnecting.',
  tags: ['jobs'],
  path: JobIdPath,
  headers: z.object({
    'Last-Event-ID': LastEventId.optional().describe('the id of the last event received'),
  }),
  query: z.object({
    lastEventId: LastEventId.optional().describe('the same, for clients that cannot set headers'),
  }),
  responses: {
    '200': {
      description: '`event: job`, `id: <log offset>`, `data: <JobView>` per change',
      content: { 'text/event-stream': { schema: jobEvent(true) } },
      links: jobLinks({ GetJob: 'getJob' }),
    },
    '204': { description: 'the client saw the terminal status already: nothing more will come' },
  },
  errors: ['VALIDATION_FAILED', 'JOB_NOT_FOUND', 'TOO_MANY_STREAMS', 'DEPENDENCY_UNAVAILABLE'],
});

export const streamJobs = operation('get', '/v1/stream', {
  operationId: 'streamJobs',
  summary: 'Live updates of all the tenant’s jobs (Server-Sent Events)',
  description:
    'Every change of any of the tenant’s jobs from the moment of connecting, as SSE events named `job` carrying the ' +
    'JobView. Live only (events carry no id): after a reconnect, list the jobs to catch up.',
  tags: ['jobs'],
  query: TenantStreamQuery,
  responses: {
    '200': {
      description: '`event: job`, `data: <JobView>` per change',
      content: { 'text/event-stream': { schema: jobEvent(false) } },
    },
  },
  errors: ['VALIDATION_FAILED', 'TOO_MANY_STREAMS', 'DEPENDENCY_UNAVAILABLE'],
});

export interface JobStreams {
  /** `GET /v1/jobs/:id/stream`: the job's view on every change, resumable, ended after a terminal status. */
  job: RequestHandler;
  /** `GET /v1/stream`: every change of the tenant's jobs (of one type with `?type=`), live. */
  tenant: RequestHandler;
  /** Ends every open stream (at shutdown, so the HTTP server can close). */
  closeAll(): void;
}

/**
 * Server-Sent Events of job changes. Live changes reach this process through Redis (see `JobChangeHub`); MongoDB's
 * `job_events` is the record. A job stream therefore treats a live change as a cue to read the job's stored history
 * and send every view it has not sent, by log offset: nothing is skipped or repeated even when a live message was
 * lost, and the same read serves `Last-Event-ID` resumption. A periodic check covers changes nobody announced.
 */
export function jobStreams(deps: JobStreamsDeps): JobStreams {
  const open = new Set<Response>();

  async function openSession(req: Request, res: Response): Promise<Session> {
    const session = await createSession(req, res, {
      keepAlive: deps.heartbeatMs,
      retry: RECONNECT_MS,
      trustClientEventId: false,
      headers: { 'X-Accel-Buffering': 'no' },
    });
    // A write racing the end of the response (a keep-alive as the client leaves) must not take the process down.
    res.on('error', (err) => deps.logger.debug('event stream write failed', { err: err.message }));
    open.add(res);
    res.once('close', () => open.delete(res));
    return session;
  }

  /** Subscribes through the hub; without Redis there are no live changes to offer, which is a 503, not a 500. */
  async function watch(...args: Parameters<JobChangeHub['watch']>) {
    try {
      return await deps.hub.watch(...args);
    } catch (err) {
      throw new JoblineError('DEPENDENCY_UNAVAILABLE', 'live updates are unavailable (Redis); retry shortly', {
        cause: err,
      });
    }
  }

  function refuseWhenFull() {
    if (deps.hub.size >= deps.maxStreams) {
      throw new JoblineError('TOO_MANY_STREAMS', 'this instance serves as many streams as it may; retry shortly');
    }
  }

  /** Writes one view; false when the stream had to be cut off because its reader does not keep up. */
  function send(session: Session, res: Response, view: JobView, id?: number): boolean {
    if (res.writableLength > MAX_UNSENT_BYTES) {
      deps.logger.warn('stream reader too slow; closing the stream', { jobId: view.id });
      res.end();
      return false;
    }
    if (res.writableEnded) return false;
    // Built and written synchronously, so that an end of the stream right after it cannot overtake it.
    const buffer = createEventBuffer();
    if (id !== undefined) buffer.id(String(id));
    void session.batch(buffer.event(JOB_EVENT).data(view).dispatch());
    return true;
  }

  const job: RequestHandler = async (req, res) => {
    const tenantId = tenantOf(req);
    const id = JobId.safeParse(req.params.id);
    if (!id.success) throw new JoblineError('JOB_NOT_FOUND', `no job ${String(req.params.id)}`);
    const jobId = id.data;
    const lastEventId = parseLastEventId(req);
    refuseWhenFull();

    // Listen before reading, so that no change falls between the read and the subscription.
    let wake = () => {};
    const stopWatching = await watch(tenantId, () => wake(), jobId);
    let session: Session | null = null;
    // Also a periodic look at MongoDB, for changes whose announcement was lost.
    const timer = setInterval(() => wake(), deps.heartbeatMs);
    const release = () => {
      stopWatching();
      clearInterval(timer);
    };
    const finish = () => {
      release();
      if (!res.writableEnded) res.end();
    };

    let history: JobChange[] | null;
    try {
      history = await deps.reader.changes(tenantId, jobId);
      if (history === null) throw new JoblineError('JOB_NOT_FOUND', `no job ${jobId}`);
      const last = history.at(-1);
      if (lastEventId !== null && last && last.offset <= lastEventId && isTerminal(last.view.status)) {
        // The client saw the end already; 204 tells an EventSource to stop reconnecting.
        release();
        res.status(204).end();
        return;
      }
      session = await openSession(req, res);
    } catch (err) {
      release(); // nothing was sent: the error is answered as problem+json
      throw err;
    }
    const stream = session;
    res.once('close', finish);
    // A client that left while the stream was being set up has already closed it: nothing will fire 'close' again.
    if (res.destroyed) return finish();

    let sent = lastEventId ?? -1;
    const sendNew = (changes: readonly JobChange[]) => {
      for (const change of changes) {
        if (change.offset <= sent) continue;
        if (!send(stream, res, change.view, change.offset)) return;
        sent = change.offset;
        if (isTerminal(change.view.status)) return finish();
      }
    };

    let running: Promise<void> | null = null;
    let again = false;
    /** Sends what MongoDB holds beyond the last sent offset; calls arriving meanwhile fold into one more pass. */
    const catchUp = (): void => {
      if (running) {
        again = true;
        return;
      }
      running = deps.reader
        .changes(tenantId, jobId)
        .then((changes) => sendNew(changes ?? []))
        .catch((err: unknown) => {
          deps.logger.warn('job stream catch-up failed', { jobId, err: String(err) });
        })
        .finally(() => {
          running = null;
          if (again && !res.writableEnded) {
            again = false;
            catchUp();
          }
        });
    };

    if (lastEventId === null) {
      // A new client wants the present, not the past: the latest view, or the accepted one not yet persisted.
      const latest = history.at(-1);
      if (latest) sendNew([latest]);
      else {
        const view = await deps.reader.find(tenantId, jobId).catch(() => null);
        if (view) send(stream, res, view);
      }
    }
    if (res.writableEnded) return;
    wake = catchUp;
    catchUp();
  };

  const tenant: RequestHandler = async (req, res) => {
    const tenantId = tenantOf(req);
    const query = TenantStreamQuery.safeParse(req.query);
    if (!query.success) {
      throw new JoblineError('VALIDATION_FAILED', 'invalid stream query', { details: queryIssues(query.error) });
    }
    const type = query.data.type;
    refuseWhenFull();
    let session: Session | null = null;
    const pending: JobChange[] = [];
    const stopWatching = await watch(tenantId, (change) => {
      if (type !== undefined && change.view.type !== type) return;
      if (session) send(session, res, change.view);
      else pending.push(change);
    });
    res.once('close', stopWatching);
    if (res.destroyed) return stopWatching();
    try {
      session = await openSession(req, res);
    } catch (err) {
      stopWatching();
      throw err;
    }
    for (const change of pending.splice(0)) send(session, res, change.view);
  };

  return {
    job,
    tenant,
    closeAll() {
      for (const res of open) res.end();
    },
  };
}

function parseLastEventId(req: Request): number | null {
  // An empty header is an EventSource's "none": the query parameter may still give one. Both are checked when both
  // come, and the header wins. A repeated parameter (an array) is refused, not ignored.
  const header = checkedLastEventId('Last-Event-ID', req.get('Last-Event-ID'));
  const query = checkedLastEventId('lastEventId', req.query.lastEventId);
  return header ?? query;
}

function checkedLastEventId(field: string, value: unknown): number | null {
  if (value === undefined || value === '') return null;
  const parsed = LastEventId.safeParse(value);
  if (!parsed.success) {
    throw new JoblineError('VALIDATION_FAILED', 'invalid Last-Event-ID', {
      details: [{ field, message: parsed.error.issues[0]!.message, code: 'invalid_format' }],
    });
  }
  return Number(parsed.data);
}
