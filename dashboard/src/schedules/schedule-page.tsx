import { Anchor, Breadcrumbs, Button, Code, Grid, Group, Paper, Stack, Table, Text, Title } from '@mantine/core';
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { dataOf, type Answer, type JobView } from '../api/api-client';
import { useLiveJobs } from '../api/live-jobs';
import { useSession } from '../auth/session';
import { AnswerAlert } from '../ui/answer-alert';
import { ConfirmDialog } from '../ui/confirm-dialog';
import { IconPlayerPause, IconPlayerPlay, IconTrash } from '../ui/icons';
import { describePriority } from '../ui/priority-badge';
import { ErrorState, Loading } from '../ui/states';
import { StatusBadge } from '../ui/status-badge';
import { formatInstant, fromNow } from '../ui/time';
import { useQuery } from '../ui/use-query';
import {
  SCHEDULE_METADATA_KEY,
  deleteSchedule,
  describeTrigger,
  jobTypeOf,
  setSchedulePaused,
  type ScheduleView,
} from './schedule-commands';
import { NextFires, ScheduleStatusBadge } from './schedule-parts';
import { scheduleName, type DeletedSchedule } from './schedules-page';

function Section({ title, children, extra }: { title: string; children: ReactNode; extra?: ReactNode }) {
  return (
    <Paper withBorder p="md" component="section" aria-label={title}>
      <Group justify="space-between" mb="sm">
        <Title order={2} size="h4">
          {title}
        </Title>
        {extra}
      </Group>
      {children}
    </Paper>
  );
}

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Table.Tr>
      <Table.Th w={140}>{label}</Table.Th>
      <Table.Td>{children}</Table.Td>
    </Table.Tr>
  );
}

const CATCH_UP: Record<ScheduleView['catchUp'], string> = {
  none: 'none: fires missed during an outage are dropped',
  latest: 'latest: only the latest missed fire is made',
  all: 'all: each missed fire is made',
};
const OVERLAP: Record<ScheduleView['overlap'], string> = {
  allow: 'allow: a fire is made while the previous job runs',
  skip: 'skip: a fire is dropped while the previous job runs',
  bufferOne: 'bufferOne: one fire waits for the previous job to finish',
};

function Definition({ schedule }: { schedule: ScheduleView }) {
  const { job } = schedule;
  // What the job has beyond its type, without the options it leaves unset.
  const settings = Object.fromEntries(Object.entries(job).filter(([key, value]) => key !== 'type' && value !== null));
  return (
    <Table>
      <Table.Tbody>
        <Row label="Fires">
          <Code>{describeTrigger(schedule)}</Code>
        </Row>
        {schedule.timeZone && <Row label="Time zone">{schedule.timeZone}</Row>}
        <Row label="Starts">{schedule.startAt ? formatInstant(schedule.startAt) : 'at once'}</Row>
        <Row label="Ends">{schedule.endAt ? formatInstant(schedule.endAt) : 'never'}</Row>
        <Row label="Catch-up">
          {CATCH_UP[schedule.catchUp]}
          {schedule.catchUp === 'all' ? `, at most ${schedule.catchUpLimit}` : ''}
        </Row>
        <Row label="Overlap">{OVERLAP[schedule.overlap]}</Row>
        <Row label="Job">
          <Stack gap={4}>
            <Text size="sm">
              <b>{jobTypeOf(schedule)}</b>
              {typeof job.priority === 'number' ? `, priority ${describePriority(job.priority)}` : ''}
              {typeof job.maxAttempts === 'number' ? `, ${job.maxAttempts} attempts at most` : ''}
            </Text>
            <Code block style={{ maxHeight: 240, overflow: 'auto' }}>
              {JSON.stringify(settings, null, 2)}
            </Code>
          </Stack>
        </Row>
        <Row label="Created">{formatInstant(schedule.createdAt)}</Row>
        <Row label="Changed">
          {formatInstant(schedule.updatedAt)} (revision {schedule.revision})
        </Row>
      </Table.Tbody>
    </Table>
  );
}

/** A schedule: its definition, next fire times and recent jobs, followed live; pause, resume or delete it. */
export function SchedulePage() {
  const { id = '' } = useParams();
  const { api } = useSession();
  const navigate = useNavigate();
  const schedule = useQuery(`schedule:${id}`, async (signal) =>
    dataOf(await api.GET('/v1/schedules/{id}', { params: { path: { id } }, signal })),
  );
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);

  // A job of this schedule, new or changed, reads the view again (its recent jobs), at most once per half second.
  const { reload, set } = schedule;
  const pending = useRef<number | null>(null);
  const soon = useCallback(() => {
    if (pending.current !== null) return;
    pending.current = window.setTimeout(() => {
      pending.current = null;
      reload();
    }, 500);
  }, [reload]);
  useEffect(() => () => window.clearTimeout(pending.current ?? undefined), []);
  useLiveJobs((view: JobView) => view.metadata[SCHEDULE_METADATA_KEY] === id && soon(), reload);

  // And when its next fire time has passed, so that the fire times move on.
  const nextFire = schedule.data?.nextFireTimes[0];
  useEffect(() => {
    if (!nextFire) return;
    const timer = window.setTimeout(reload, Math.max(1000, Date.parse(nextFire) - Date.now() + 250));
    return () => window.clearTimeout(timer);
  }, [nextFire, reload]);

  async function togglePaused(view: ScheduleView) {
    setBusy(true);
    const { answer: result, view: next } = await setSchedulePaused(api, id, view.status === 'active');
    if (next) set(() => next);
    setAnswer(result);
    setBusy(false);
  }

  async function remove() {
    setBusy(true);
    const result = await deleteSchedule(api, id);
    setBusy(false);
    setConfirmDelete(false);
    if (result.ok) {
      const state: DeletedSchedule = { deleted: { id, answer: result } };
      navigate('/schedules', { replace: true, state });
    } else setAnswer(result);
  }

  if (schedule.error) return <ErrorState error={schedule.error} retry={reload} />;
  if (schedule.loading || !schedule.data) return <Loading label="Loading the schedule" />;
  const view = schedule.data;
  const name = scheduleName(view);

  return (
    <Stack>
      <Breadcrumbs>
        <Anchor component={Link} to="/schedules">
          Schedules
        </Anchor>
        <Text ff="monospace" size="sm">
          {view.id}
        </Text>
      </Breadcrumbs>
      <Group justify="space-between" align="flex-start">
        <Stack gap={4}>
          <Group gap="sm">
            <Title order={1} size="h2">
              {name}
            </Title>
            <span data-testid="schedule-status" data-status={view.status}>
              <ScheduleStatusBadge status={view.status} />
            </span>
          </Group>
          <Text size="sm" c="dimmed">
            {describeTrigger(view)}
            {view.timeZone ? ` in ${view.timeZone}` : ''} · makes {jobTypeOf(view)} jobs
          </Text>
        </Stack>
        <Group gap="xs">
          <Button
            variant="light"
            color={view.status === 'active' ? 'orange' : 'teal'}
            leftSection={view.status === 'active' ? <IconPlayerPause size={16} /> : <IconPlayerPlay size={16} />}
            loading={busy}
            onClick={() => void togglePaused(view)}
          >
            {view.status === 'active' ? 'Pause' : 'Resume'}
          </Button>
          <Button
            variant="light"
            color="red"
            leftSection={<IconTrash size={16} />}
            disabled={busy}
            onClick={() => setConfirmDelete(true)}
          >
            Delete…
          </Button>
        </Group>
      </Group>
      <AnswerAlert answer={answer} onClose={() => setAnswer(null)} />
      <Grid>
        <Grid.Col span={{ base: 12, md: 7 }}>
          <Section title="Definition">
            <Definition schedule={view} />
          </Section>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Stack>
            <Section title="Next fire times">
              <NextFires schedule={view} />
            </Section>
            <Section
              title="Recent jobs"
              extra={
                <Anchor
                  component={Link}
                  to={`/jobs?metadata=${encodeURIComponent(`${SCHEDULE_METADATA_KEY}=${view.id}`)}`}
                  size="sm"
                >
                  all its jobs
                </Anchor>
              }
            >
              {view.recentJobs.length === 0 ? (
                <Text c="dimmed" size="sm">
                  No fire has made a job yet.
                </Text>
              ) : (
                <Table data-testid="recent-jobs">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Fired</Table.Th>
                      <Table.Th>Job</Table.Th>
                      <Table.Th>Status</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {view.recentJobs.map((job) => (
                      <Table.Tr key={job.id} data-job-id={job.id} data-status={job.status}>
                        <Table.Td>
                          <Text size="sm" title={formatInstant(job.fireAt)}>
                            {fromNow(job.fireAt)}
                          </Text>
                        </Table.Td>
                        <Table.Td>
                          <Anchor component={Link} to={`/jobs/${job.id}`} ff="monospace" size="sm" title={job.id}>
                            {job.id.slice(-12)}
                          </Anchor>
                        </Table.Td>
                        <Table.Td>
                          <StatusBadge status={job.status} />
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              )}
            </Section>
          </Stack>
        </Grid.Col>
      </Grid>
      <ConfirmDialog
        opened={confirmDelete}
        title={`Delete ${name}`}
        confirmLabel="Delete the schedule"
        loading={busy}
        onConfirm={() => void remove()}
        onClose={() => setConfirmDelete(false)}
      >
        <Text size="sm">
          It will fire no more, and cannot be brought back. The jobs it made stay as they are. To stop it for a while,
          pause it instead.
        </Text>
      </ConfirmDialog>
    </Stack>
  );
}
