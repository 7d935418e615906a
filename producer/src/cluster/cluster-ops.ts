import cluster, { type Worker } from 'node:cluster';
import { z } from 'zod';
import {
  AggregatorRegistry,
  runReadinessChecks,
  type MetricsSource,
  type ReadinessChecks,
  type Registry,
} from '@jobline/libs';
import { ReadinessReport } from '../http/health-reports';

/**
 * With workers, the primary serves the ops port (`/metrics`, `/ready`) and asks the workers over the cluster's IPC
 * channel: each worker answers with its registry as JSON, which prom-client's `AggregatorRegistry.aggregate` adds up
 * (counters and histograms summed, event-loop lag averaged), and with its own readiness report.
 */
const OpsRequest = z.object({
  type: z.literal('jobline:ops-request'),
  id: z.number().int(),
  ask: z.enum(['metrics', 'readiness']),
});
type OpsRequest = z.infer<typeof OpsRequest>;

const OpsReply = z.object({
  type: z.literal('jobline:ops-reply'),
  id: z.number().int(),
  /** The worker's `registry.getMetricsAsJSON()`, as `AggregatorRegistry.aggregate` takes it. */
  metrics: z.array(z.custom<object>((metric) => typeof metric === 'object' && metric !== null)).optional(),
  readiness: ReadinessReport.optional(),
  error: z.string().optional(),
});
type OpsReply = z.infer<typeof OpsReply>;

/**
 * The ops server gives each readiness check 2 s: a worker's own checks get less, so that a worker's answer, with the
 * dependency it found down, reaches the primary before that.
 */
const WORKER_READINESS_TIMEOUT_MS = 1500;
const READINESS_ASK_TIMEOUT_MS = 1900;

/** In a worker: answers the primary's questions from the worker's registry and readiness checks. */
export function answerOpsRequests(deps: { registry: Registry; readiness: ReadinessChecks }): void {
  process.on('message', (message: unknown) => {
    const request = OpsRequest.safeParse(message);
    if (!request.success) return;
    const { id, ask } = request.data;
    const answer = async (): Promise<Partial<OpsReply>> =>
      ask === 'metrics'
        ? { metrics: await deps.registry.getMetricsAsJSON() }
        : { readiness: await runReadinessChecks(deps.readiness, WORKER_READINESS_TIMEOUT_MS) };
    void answer()
      .catch((err: unknown) => ({ error: err instanceof Error ? err.message : String(err) }))
      .then((body) => {
        // The primary may be gone by now; without a callback, a failed send is an 'error' event that ends the worker.
        if (process.connected)
          process.send?.({ type: 'jobline:ops-reply', id, ...body } satisfies OpsReply, undefined, {}, () => undefined);
      });
  });
}

/** A worker that exited while the primary waited for its answer: it no longer has anything to report. */
class WorkerGone extends Error {}

export interface ClusterOpsOptions {
  /** The workers to ask: those whose HTTP server listens. */
  workers: () => Worker[];
  /** The primary's own series (worker restarts), served beside the workers'. */
  registry: Registry;
  /** Longest wait for a worker's metrics. @defaultValue 3000 */
  timeoutMs?: number;
}

/** In the primary: the ops server's metrics and readiness, gathered from the workers. */
export function clusterOps(options: ClusterOpsOptions): { metrics: MetricsSource; readiness: ReadinessChecks } {
  const timeoutMs = options.timeoutMs ?? 3000;
  const pending = new Map<number, { worker: Worker; settle: (reply: OpsReply | Error) => void }>();
  let nextId = 0;
  cluster.on('message', (worker, message: unknown) => {
    const reply = OpsReply.safeParse(message);
    if (reply.success) pending.get(reply.data.id)?.settle(reply.data);
  });
  cluster.on('exit', (worker) => {
    for (const request of pending.values()) if (request.worker === worker) request.settle(new WorkerGone());
  });

  const ask = (worker: Worker, what: OpsRequest['ask'], waitMs: number) =>
    new Promise<OpsReply>((resolve, reject) => {
      const id = nextId++;
      const pid = worker.process.pid;
      const settle = (reply: OpsReply | Error) => {
        clearTimeout(timer);
        pending.delete(id);
        if (reply instanceof Error) reject(reply);
        else if (reply.error !== undefined) reject(new Error(`worker ${pid}: ${reply.error}`));
        else resolve(reply);
      };
      const timer = setTimeout(() => settle(new Error(`worker ${pid} did not answer within ${waitMs} ms`)), waitMs);
      pending.set(id, { worker, settle });
      worker.send({ type: 'jobline:ops-request', id, ask: what } satisfies OpsRequest, (err) => {
        if (err) settle(worker.isDead() ? new WorkerGone() : err);
      });
    });

  const metrics: MetricsSource = {
    contentType: options.registry.contentType,
    async metrics() {
      const answers = await Promise.allSettled(options.workers().map((worker) => ask(worker, 'metrics', timeoutMs)));
      // A worker that died meanwhile is left out: its series are gone with it. One that is alive but silent fails the
      // scrape, so that Prometheus marks it failed rather than seeing the sums drop and counters appear to reset.
      const failed = answers.find(
        (answer): answer is PromiseRejectedResult =>
          answer.status === 'rejected' && !(answer.reason instanceof WorkerGone),
      );
      if (failed) throw failed.reason;
      const perWorker = answers.flatMap((answer) =>
        answer.status === 'fulfilled' ? [answer.value.metrics ?? []] : [],
      );
      return AggregatorRegistry.aggregate([...perWorker, await options.registry.getMetricsAsJSON()]).metrics();
    },
  };

  const readiness: ReadinessChecks = {
    /** Up when at least one worker reports Kafka, MongoDB and Redis up: the primary hands connections to it. */
    workers: async () => {
      const workers = options.workers();
      if (workers.length === 0) throw new Error('no worker is listening');
      try {
        return await Promise.any(
          workers.map(async (worker) => {
            const { readiness: report } = await ask(worker, 'readiness', READINESS_ASK_TIMEOUT_MS);
            if (report?.status === 'ready') return report;
            const down = Object.entries(report?.checks ?? {}).flatMap(([name, check]) =>
              check.status === 'down' ? [`${name} ${check.error}`] : [],
            );
            throw new Error(`worker ${worker.process.pid}: ${down.join(', ') || 'not ready'}`);
          }),
        );
      } catch (err) {
        const reasons = err instanceof AggregateError ? err.errors : [err];
        throw new Error(`no worker is ready: ${reasons.map((reason) => (reason as Error).message).join('; ')}`);
      }
    },
  };

  return { metrics, readiness };
}
