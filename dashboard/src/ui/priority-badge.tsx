import { Badge, Tooltip } from '@mantine/core';

/** A job's priority when every runner slot is busy: 1 (lowest) to 9 (highest). */
export const DEFAULT_PRIORITY = 5;

export function describePriority(priority: number): string {
  if (priority === 9) return `${priority} (highest)`;
  if (priority === 1) return `${priority} (lowest)`;
  return priority === DEFAULT_PRIORITY ? `${priority} (default)` : String(priority);
}

/**
 * A job's priority, for tables: shown only when it is not the default, so that the few jobs that jump the queue, or
 * let others go first, stand out.
 */
export function PriorityBadge({ priority }: { priority: number }) {
  if (priority === DEFAULT_PRIORITY) return null;
  const high = priority > DEFAULT_PRIORITY;
  return (
    <Tooltip label={`priority ${describePriority(priority)}: ${high ? 'before' : 'after'} the default 5`}>
      <Badge
        size="sm"
        variant="light"
        color={high ? 'grape' : 'gray'}
        data-testid="priority"
        data-priority={priority}
        aria-label={`priority ${priority}`}
      >
        P{priority}
      </Badge>
    </Tooltip>
  );
}
