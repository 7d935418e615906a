import { Code, Text, Timeline } from '@mantine/core';
import type { JobEvent } from '../api/api-client';
import { formatInstant } from '../ui/time';

const COLORS: Record<JobEvent['type'], string> = {
  JobRequested: 'gray',
  JobStarted: 'blue',
  JobProgressed: 'blue',
  JobCompleted: 'teal',
  JobAttemptFailed: 'red',
  JobDeadLettered: 'red',
  JobCancelRequested: 'orange',
  JobCancelled: 'orange',
  JobRetryRequested: 'indigo',
  JobDiscarded: 'gray',
};

/** One line saying what the event changed. */
export function describeEvent(event: JobEvent): string {
  switch (event.type) {
    case 'JobRequested':
      return event.data.runAt ? `requested, to run at ${formatInstant(event.data.runAt)}` : 'requested';
    case 'JobStarted':
      return `attempt ${event.data.attempt} started on ${event.data.runnerId}`;
    case 'JobProgressed':
      return `progress ${event.data.current}${event.data.total !== null ? ` of ${event.data.total}` : ''}${
        event.data.message ? `: ${event.data.message}` : ''
      }`;
    case 'JobCompleted':
      return `attempt ${event.data.attempt} completed`;
    case 'JobAttemptFailed':
      return `attempt ${event.data.attempt} failed: ${event.data.error.code} ${event.data.error.message}${
        event.data.nextRunAt ? `; retry at ${formatInstant(event.data.nextRunAt)}` : ''
      }`;
    case 'JobDeadLettered':
      return `dead-lettered after attempt ${event.data.attempt}`;
    case 'JobCancelRequested':
      return `cancellation requested${event.data.reason ? `: ${event.data.reason}` : ''}`;
    case 'JobCancelled':
      return `cancelled${event.data.reason ? `: ${event.data.reason}` : ''}`;
    case 'JobRetryRequested':
      return `redriven${event.data.bulkJobId ? ` by bulk job ${event.data.bulkJobId}` : ''}: may run up to attempt ${
        event.data.attemptLimit
      }`;
    case 'JobDiscarded':
      return `discarded${event.data.bulkJobId ? ` by bulk job ${event.data.bulkJobId}` : ''}${
        event.data.reason ? `: ${event.data.reason}` : ''
      }`;
    default: {
      const _never: never = event;
      return String(_never);
    }
  }
}

/** The job's events in log order; a run of progress events is folded into its latest. */
export function EventTimeline({ events }: { events: readonly JobEvent[] }) {
  const shown = events.filter((e, i) => !(e.type === 'JobProgressed' && events[i + 1]?.type === 'JobProgressed'));
  return (
    <Timeline bulletSize={14} lineWidth={2} active={shown.length - 1} data-testid="event-timeline">
      {shown.map((event) => (
        <Timeline.Item
          key={event.eventId}
          color={COLORS[event.type]}
          title={<Code>{event.type}</Code>}
          data-event-type={event.type}
        >
          <Text size="sm">{describeEvent(event)}</Text>
          <Text size="xs" c="dimmed">
            {formatInstant(event.occurredAt)} · {event.source}
          </Text>
        </Timeline.Item>
      ))}
    </Timeline>
  );
}
