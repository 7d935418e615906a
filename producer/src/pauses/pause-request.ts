import { z } from 'zod';
import { JOB_TYPES, pauseScopeId, type LogPosition, type PauseScope, type PositionedPauseScope } from '@jobline/libs';

export const MAX_PAUSE_REASON_LENGTH = 500;

/** The body of `PUT /v1/pauses/tenant` and `PUT /v1/pauses/types/{type}`; it may be left out. */
export const PauseRequest = z
  .object({
    reason: z
      .string()
      .min(1)
      .max(MAX_PAUSE_REASON_LENGTH)
      .nullable()
      .optional()
      .describe('why, shown with the pause (an incident number, a ticket); pausing again replaces it'),
  })
  .strict();
export type PauseRequest = z.infer<typeof PauseRequest>;

export const JobTypePath = z.object({
  type: z.enum(JOB_TYPES).describe('the job type paused or resumed, for the token’s tenant only'),
});

const PauseFields = {
  reason: z.string().nullable().describe('the reason given with the latest pause'),
  pausedAt: z.iso.datetime({ offset: true }).describe('since when it has been paused, without a resume in between'),
  pausedBy: z.string().describe('the id of the API token that paused it last (`env:…` for a configured token)'),
};

export const PauseView = z.object(PauseFields);
export const JobTypePauseView = z.object({ type: z.string().describe('the job type paused'), ...PauseFields });

/** What is paused of the token's tenant: the tenant as a whole, and each job type paused on its own. */
export const PausesView = z.object({
  tenant: PauseView.nullable().describe(
    'the pause of the tenant as a whole, which holds every job type; null when the tenant is not paused as a whole',
  ),
  types: z
    .array(JobTypePauseView)
    .describe('job types paused on their own, by name; a type stays paused here while the whole tenant is resumed'),
});
export type PausesView = z.infer<typeof PausesView>;

/** The view of a tenant's scopes: the paused ones only. */
export function toPausesView(scopes: Iterable<PauseScope>): PausesView {
  const paused = [...scopes].filter((s) => s.paused && s.pausedAt);
  const view = (s: PauseScope) => ({ reason: s.reason, pausedAt: s.pausedAt!, pausedBy: s.changedBy });
  const tenant = paused.find((s) => s.jobType === null);
  return {
    tenant: tenant ? view(tenant) : null,
    types: paused
      .filter((s) => s.jobType !== null)
      .sort((a, b) => (a.jobType! < b.jobType! ? -1 : 1))
      .map((s) => ({ type: s.jobType!, ...view(s) })),
  };
}

/**
 * Each scope's latest state, from the projection and the cache: the cached one when it reflects a later event of the
 * log (the producer caches what it answers with before the persister has folded it), else the projected one.
 */
export function latestScopes(
  projected: readonly PositionedPauseScope[],
  cached: readonly PositionedPauseScope[],
): Map<string, PositionedPauseScope> {
  const latest = new Map<string, PositionedPauseScope>();
  for (const entry of projected) latest.set(pauseScopeId(entry.scope.tenantId, entry.scope.jobType), entry);
  for (const entry of cached) {
    const id = pauseScopeId(entry.scope.tenantId, entry.scope.jobType);
    const known = latest.get(id);
    if (!known || later(entry.position, known.position)) latest.set(id, entry);
  }
  return latest;
}

/** Positions compare within a partition only; a tenant's events share one. */
function later(a: LogPosition, b: LogPosition): boolean {
  return a.partition === b.partition && a.offset > b.offset;
}
