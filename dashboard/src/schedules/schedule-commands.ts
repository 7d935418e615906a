import { problemAnswer, type Answer, type ApiClient, type Schemas } from '../api/api-client';
import { formatDuration } from '../ui/time';

export type ScheduleView = Schemas['ScheduleView'];

/** The metadata entry naming the schedule whose fire made a job. */
export const SCHEDULE_METADATA_KEY = 'jobline-schedule';

/** "cron 0 9 * * 1-5" or "every 1h 30m". */
export function describeTrigger(schedule: ScheduleView): string {
  if (schedule.cron !== null) return `cron ${schedule.cron}`;
  const ms = schedule.intervalMs ?? 0;
  return `every ${ms % 1000 === 0 ? formatDuration(ms / 1000) : `${ms} ms`}`;
}

/** The job type a schedule's fires create. */
export const jobTypeOf = (schedule: ScheduleView): string => String(schedule.job.type ?? '—');

/** Pauses or resumes a schedule (`PATCH {paused}`); the answer carries the schedule after the change. */
export async function setSchedulePaused(
  api: ApiClient,
  id: string,
  paused: boolean,
): Promise<{ answer: Answer; view?: ScheduleView }> {
  try {
    const { data, error, response } = await api.PATCH('/v1/schedules/{id}', {
      params: { path: { id } },
      body: { paused },
    });
    if (!data) return { answer: problemAnswer(response.status, error) };
    const message = paused ? 'the schedule is paused: it does not fire' : 'the schedule is resumed';
    return { answer: { ok: true, status: response.status, message }, view: data };
  } catch (err) {
    return { answer: problemAnswer(0, err) };
  }
}

export async function deleteSchedule(api: ApiClient, id: string): Promise<Answer> {
  try {
    const { error, response } = await api.DELETE('/v1/schedules/{id}', { params: { path: { id } } });
    return response.ok
      ? { ok: true, status: response.status, message: 'the schedule is deleted; the jobs it made stay' }
      : problemAnswer(response.status, error);
  } catch (err) {
    return problemAnswer(0, err);
  }
}
