import type { JobType } from '@jobline/libs';
import { createHttpHandler, type HttpHandlerDeps } from './http-handler';
import type { JobHandler } from './job-handler';
import { noopHandler } from './noop-handler';
import { sleepHandler } from './sleep-handler';

export type { HandlerContext, HandlerResult, JobHandler } from './job-handler';

/** What the handlers need from the runner's process: the outbound HTTP client and the signing key. */
export type HandlerDeps = HttpHandlerDeps;

export function createHandlers(deps: HandlerDeps): Record<JobType, JobHandler> {
  return {
    sleep: sleepHandler,
    noop: noopHandler,
    http: createHttpHandler(deps),
  };
}
