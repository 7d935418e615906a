import type { JobType } from '@jobline/libs';
import type { JobHandler } from './job-handler';
import { noopHandler } from './noop-handler';
import { sleepHandler } from './sleep-handler';

export type { HandlerContext, HandlerResult, JobHandler } from './job-handler';

export const HANDLERS: Record<JobType, JobHandler> = {
  sleep: sleepHandler,
  noop: noopHandler,
};
