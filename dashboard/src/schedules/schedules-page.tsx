import { Anchor, Button, Group, ScrollArea, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { Link, useLocation } from 'react-router';
import type { Answer } from '../api/api-client';
import { useSession } from '../auth/session';
import { Pager } from '../jobs/pager';
import { AnswerAlert } from '../ui/answer-alert';
import { IconPlayerPause, IconPlayerPlay, IconPlus } from '../ui/icons';
import { PriorityBadge } from '../ui/priority-badge';
import { Empty, ErrorState, Loading } from '../ui/states';
import { describeTrigger, jobTypeOf, setSchedulePaused, type ScheduleView } from './schedule-commands';
import { NextFires, ScheduleStatusBadge } from './schedule-parts';
import { useScheduleList } from './use-schedule-list';

export function scheduleName(schedule: ScheduleView): string {
  return schedule.name ?? `schedule …${schedule.id.slice(-8)}`;
}

/** The tenant's schedules: trigger, job, status and next fire times; pause or resume one, or create one. */
/** What the schedule page hands this view after a delete. */
export interface DeletedSchedule {
  deleted: { id: string; answer: Answer };
}

export function SchedulesPage() {
  const { api } = useSession();
  const came = useLocation().state as DeletedSchedule | null;
  const list = useScheduleList(came?.deleted.id ?? null);
  const [answer, setAnswer] = useState<Answer | null>(came?.deleted.answer ?? null);
  const [busy, setBusy] = useState<string | null>(null);

  async function togglePaused(schedule: ScheduleView) {
    setBusy(schedule.id);
    const { answer: result, view } = await setSchedulePaused(api, schedule.id, schedule.status === 'active');
    if (view) list.apply(view);
    setAnswer(result);
    setBusy(null);
  }

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1} size="h2">
          Schedules
        </Title>
        <Button component={Link} to="/schedules/new" leftSection={<IconPlus size={16} />}>
          New schedule
        </Button>
      </Group>
      <AnswerAlert answer={answer} onClose={() => setAnswer(null)} />
      {list.error ? (
        <ErrorState error={list.error} retry={list.reload} />
      ) : list.loading ? (
        <Loading label="Loading schedules" />
      ) : list.schedules.length === 0 ? (
        <Empty>No schedules yet. A schedule creates a job at each time of a cron expression or an interval.</Empty>
      ) : (
        <>
          <ScrollArea type="auto">
            <Table striped highlightOnHover verticalSpacing="xs" miw={760} data-testid="schedule-table">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Schedule</Table.Th>
                  <Table.Th>Fires</Table.Th>
                  <Table.Th>Job</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Next fire times</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.schedules.map((schedule) => (
                  <Table.Tr key={schedule.id} data-schedule-id={schedule.id} data-status={schedule.status}>
                    <Table.Td>
                      <Anchor component={Link} to={`/schedules/${schedule.id}`} size="sm" title={schedule.id}>
                        {scheduleName(schedule)}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm" ff="monospace">
                        {describeTrigger(schedule)}
                      </Text>
                      {schedule.timeZone && (
                        <Text size="xs" c="dimmed">
                          {schedule.timeZone}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Group gap={4} wrap="nowrap">
                        <Text size="sm">{jobTypeOf(schedule)}</Text>
                        {typeof schedule.job.priority === 'number' && (
                          <PriorityBadge priority={schedule.job.priority} />
                        )}
                      </Group>
                    </Table.Td>
                    <Table.Td>
                      <ScheduleStatusBadge status={schedule.status} />
                    </Table.Td>
                    <Table.Td>
                      <NextFires schedule={schedule} count={3} />
                    </Table.Td>
                    <Table.Td ta="right">
                      <Button
                        size="compact-sm"
                        variant="light"
                        color={schedule.status === 'active' ? 'orange' : 'teal'}
                        leftSection={
                          schedule.status === 'active' ? <IconPlayerPause size={14} /> : <IconPlayerPlay size={14} />
                        }
                        loading={busy === schedule.id}
                        onClick={() => void togglePaused(schedule)}
                        aria-label={`${schedule.status === 'active' ? 'Pause' : 'Resume'} ${scheduleName(schedule)}`}
                      >
                        {schedule.status === 'active' ? 'Pause' : 'Resume'}
                      </Button>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollArea>
          <Pager list={list} />
        </>
      )}
    </Stack>
  );
}
