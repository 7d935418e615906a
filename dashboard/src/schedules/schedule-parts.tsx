import { Badge, List, Stack, Text } from '@mantine/core';
import { formatInstant, formatInZone, fromNow, localTimeZone } from '../ui/time';
import type { ScheduleView } from './schedule-commands';

export function ScheduleStatusBadge({ status }: { status: ScheduleView['status'] }) {
  return (
    <Badge color={status === 'active' ? 'teal' : 'orange'} variant="light" data-status={status}>
      {status}
    </Badge>
  );
}

/**
 * A schedule's next fire times, in this browser's time, each with the schedule's own wall clock when its zone is
 * another; `count` of them (all it has by default).
 */
export function NextFires({ schedule, count }: { schedule: ScheduleView; count?: number }) {
  const times = schedule.nextFireTimes.slice(0, count);
  if (times.length === 0) {
    return (
      <Text size="sm" c="dimmed" data-testid="next-fires" data-count={0}>
        {schedule.status === 'paused' ? 'none while paused' : 'none: the schedule has ended'}
      </Text>
    );
  }
  const zone = schedule.timeZone && schedule.timeZone !== localTimeZone() ? schedule.timeZone : null;
  return (
    <List size="sm" listStyleType="none" spacing={2} data-testid="next-fires" data-count={times.length}>
      {times.map((time, i) => {
        const there = zone && formatInZone(time, zone);
        return (
          <List.Item key={time} data-fire-at={time}>
            <Stack gap={0}>
              <Text size="sm" fw={i === 0 ? 600 : undefined} c={i === 0 ? undefined : 'dimmed'}>
                {formatInstant(time)} <span style={{ whiteSpace: 'nowrap' }}>({fromNow(time)})</span>
              </Text>
              {there && i === 0 && (
                <Text size="xs" c="dimmed">
                  {there} in {zone}
                </Text>
              )}
            </Stack>
          </List.Item>
        );
      })}
    </List>
  );
}
