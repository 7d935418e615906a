import type { JobView } from '@jobline/libs';
import { readJson, waitFor } from '@jobline/libs/testing';

/**
 * Polls a job's view (a job, an import or an export) until its status is terminal, and gives that view. The deadline
 * is the caller's: how long the job may take on a loaded machine depends on the job.
 */
export function settledView<T extends JobView>(url: string, headers: Record<string, string>, timeoutMs: number) {
  return waitFor(
    async () => {
      const view = (await readJson(await fetch(url, { headers }))) as T;
      return ['completed', 'failed', 'cancelled'].includes(view.status) ? view : undefined;
    },
    { timeoutMs, description: `${new URL(url).pathname} to finish` },
  );
}
