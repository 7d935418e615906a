import type { ScheduleDefinition } from './schedule-events';

export const SCHEDULE_STATUSES = ['active', 'paused', 'deleted'] as const;
export type ScheduleStatus = (typeof SCHEDULE_STATUSES)[number];

/** The state of one schedule, as folded from its events by `evolveSchedule`. It is what the `schedules` projection stores. */
export interface Schedule extends ScheduleDefinition {
  id: string;
  tenantId: string;
  status: ScheduleStatus;
  /** The revision of the latest event applied; an event of this revision or older is old news. */
  revision: number;
  /**
   * Fire times at or before this instant are not this schedule's to make: it was created, resumed or given new timing
   * then. Fires between it and now that no runner made are the missed fires the catch-up policy is about.
   */
  firesFrom: string;
  /** When the trigger was set: an interval without `startAt` counts its fires from here. */
  anchorAt: string;
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
}
