import type { JobHandler } from './job-handler';

/** Does nothing: measures the platform's own overhead. */
export const noopHandler: JobHandler = async () => ({ result: null });
