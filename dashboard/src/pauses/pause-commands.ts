import { problemAnswer, type Answer, type ApiClient } from '../api/api-client';
import type { paths } from '../api/openapi.gen';
import type { PausesView } from './pauses-context';

/** The tenant as a whole, or one job type. */
export type PauseScope = { kind: 'tenant' } | { kind: 'type'; type: string };

type PausableType = paths['/v1/pauses/types/{type}']['put']['parameters']['path']['type'];

export const scopeLabel = (scope: PauseScope, tenantId: string): string =>
  scope.kind === 'tenant' ? `tenant ${tenantId}` : `job type ${scope.type}`;

/** Pauses or resumes a scope; the answer says what the API made of it, with what is paused after it. */
export async function changePause(
  api: ApiClient,
  action: 'pause' | 'resume',
  scope: PauseScope,
  reason = '',
): Promise<{ answer: Answer; view?: PausesView }> {
  const body = reason.trim() ? { reason: reason.trim() } : {};
  const path = scope.kind === 'type' ? { path: { type: scope.type as PausableType } } : undefined;
  try {
    const { data, error, response } =
      scope.kind === 'tenant'
        ? action === 'pause'
          ? await api.PUT('/v1/pauses/tenant', { body })
          : await api.DELETE('/v1/pauses/tenant')
        : action === 'pause'
          ? await api.PUT('/v1/pauses/types/{type}', { params: path!, body })
          : await api.DELETE('/v1/pauses/types/{type}', { params: path! });
    if (!data) return { answer: problemAnswer(response.status, error) };
    const what = scope.kind === 'tenant' ? 'the tenant' : scope.type;
    const message =
      action === 'pause'
        ? `${what} is paused: its jobs wait until it is resumed`
        : `${what} is resumed: its held jobs start in their order`;
    return { answer: { ok: true, status: response.status, message }, view: data };
  } catch (err) {
    return { answer: problemAnswer(0, err) };
  }
}
