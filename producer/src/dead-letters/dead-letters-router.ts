import { Router } from 'express';
import {
  DEAD_LETTER_BULK_TYPES,
  DeadLettersDiscardPayload,
  DeadLettersRedrivePayload,
  JobView,
  JoblineError,
  type DeadLetterBulkAction,
} from '@jobline/libs';
import type { AcceptJobs } from '../jobs/accept-jobs';
import {
  CREATION_ERRORS,
  IDEMPOTENT_REPLAYED_HEADER,
  IdempotencyKeyHeader,
  LOCATION_HEADER,
  json,
  jobLinks,
  named,
  operation,
  route,
  type ApiOperation,
} from '../http/api-operation';
import { parseCreateJob, toFieldIssues } from '../jobs/create-job-request';
import { JOBS_PATH, jobRequestLimits, jsonBody, type JobsRouterDeps } from '../jobs/jobs-router';

export const DEAD_LETTERS_PATH = '/v1/dead-letters';

const PAYLOADS = { redrive: DeadLettersRedrivePayload, discard: DeadLettersDiscardPayload } as const;

const BULK_JOB_LINKS = jobLinks({
  GetJob: 'getJob',
  ListJobEvents: 'listJobEvents',
  StreamJob: 'streamJob',
  CancelJob: 'cancelJob',
});

const OUTCOME =
  'Once it has run, its `result` is the outcome: `{action, filter, matched, redriven | discarded, skipped, ' +
  'limitReached}`; while it runs, `progress` counts the dead letters done of those matched. ';

const IDEMPOTENT =
  'It acts on each dead letter once, however often it runs (a runner that dies mid-way, a redrive of the bulk job); ' +
  'the same Idempotency-Key and body answer with the same bulk job.';

const bulkOperation = (action: DeadLetterBulkAction): ApiOperation =>
  operation('post', `${DEAD_LETTERS_PATH}/${action}`, {
    operationId: action === 'redrive' ? 'redriveDeadLetters' : 'discardDeadLetters',
    summary:
      action === 'redrive'
        ? 'Redrive every dead letter that matches a filter'
        : 'Discard every dead letter that matches a filter',
    description:
      (action === 'redrive'
        ? 'Creates a `deadLetters.redrive` job that redrives (as POST /v1/jobs/{id}/retry does) each of the tenant’s ' +
          'failed jobs that match: of `type`, last failed with `code`, dead-lettered in [`from`, `to`), oldest first, ' +
          'at most `limit`. A job redriven that fails again is a new dead letter, for a later bulk job. '
        : 'Creates a `deadLetters.discard` job that sets each of the tenant’s failed jobs that match aside for good: ' +
          'it becomes `discarded`, leaves the dead letters and the counts of GET /v1/stats, keeps its history, and ' +
          'can no longer be redriven. ') +
      'Only dead letters from before the request are acted on. ' +
      OUTCOME +
      IDEMPOTENT,
    tags: ['dead letters'],
    headers: IdempotencyKeyHeader,
    body: {
      required: true,
      ...json(
        named(action === 'redrive' ? 'RedriveDeadLettersRequest' : 'DiscardDeadLettersRequest', PAYLOADS[action]),
      ),
    },
    responses: {
      '202': {
        description: 'the bulk job is in Kafka; its view',
        headers: { ...LOCATION_HEADER('bulk job'), ...IDEMPOTENT_REPLAYED_HEADER },
        ...json(named('JobView', JobView)),
        links: BULK_JOB_LINKS,
      },
    },
    errors: CREATION_ERRORS,
  });

const redriveDeadLetters = bulkOperation('redrive');
const discardDeadLetters = bulkOperation('discard');

/** The operations of `/v1/dead-letters`, as the router serves them. */
export const DEAD_LETTERS_OPERATIONS = [redriveDeadLetters, discardDeadLetters];

/**
 * `/v1/dead-letters`: bulk jobs on the dead letters (`deadLetters.redrive`, `deadLetters.discard`), created through the
 * same path as any job (idempotency, publishing, caching) from a filter as the body. Followed, listed and cancelled as
 * jobs: `/v1/jobs/{id}`, `/v1/jobs?type=deadLetters.redrive`.
 */
export function deadLettersRouter(deps: JobsRouterDeps, acceptJobs: AcceptJobs): Router {
  const router = Router();
  const limits = jobRequestLimits(deps);

  for (const [action, op] of [
    ['redrive', redriveDeadLetters],
    ['discard', discardDeadLetters],
  ] as const) {
    const type = DEAD_LETTER_BULK_TYPES[action];
    route(router, DEAD_LETTERS_PATH, op, async (req, res) => {
      const filter = PAYLOADS[action].safeParse(jsonBody(req) ?? {});
      if (!filter.success) {
        throw new JoblineError('VALIDATION_FAILED', `the filter is invalid`, { details: toFieldIssues(filter.error) });
      }
      const [view] = await acceptJobs(req, res, [parseCreateJob({ type, payload: filter.data }, limits)]);
      // A replay answers with the job the key created first, which may be of another kind.
      if (view!.type !== type) {
        throw new JoblineError('IDEMPOTENCY_KEY_REUSED', `this Idempotency-Key was used for a ${view!.type} job`);
      }
      res.status(202).location(`${JOBS_PATH}/${view!.id}`).json(view);
    });
  }

  return router;
}
