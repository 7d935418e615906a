import {
  Alert,
  Anchor,
  Badge,
  Breadcrumbs,
  Button,
  Code,
  Grid,
  Group,
  Paper,
  Progress,
  Stack,
  Table,
  Text,
  Title,
} from '@mantine/core';
import { IconPlayerStop, IconRefresh } from '../ui/icons';
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { dataOf, isTerminal, type Answer, type JobEvent, type JobView } from '../api/api-client';
import { useJobStream, useLiveJobs } from '../api/live-jobs';
import { useSession } from '../auth/session';
import { pauseHolding, usePauses } from '../pauses/pauses-context';
import { ResumeButton } from '../pauses/resume-button';
import { AnswerAlert } from '../ui/answer-alert';
import { describePriority } from '../ui/priority-badge';
import { ErrorState, Loading } from '../ui/states';
import { StatusBadge } from '../ui/status-badge';
import { formatInstant, fromNow } from '../ui/time';
import { useQuery } from '../ui/use-query';
import { AttemptsTable } from './attempts-table';
import { EventTimeline } from './event-timeline';
import { sendJobCommand, type JobCommand } from './job-commands';

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Paper withBorder p="md" component="section" aria-label={title}>
      <Title order={2} size="h4" mb="sm">
        {title}
      </Title>
      {children}
    </Paper>
  );
}

function Json({ value }: { value: unknown }) {
  return (
    <Code block style={{ maxHeight: 320, overflow: 'auto' }}>
      {JSON.stringify(value, null, 2)}
    </Code>
  );
}

function LiveProgress({ job }: { job: JobView }) {
  const p = job.progress;
  if (!p) return <Text c="dimmed">No progress reported.</Text>;
  // A completed job is done, whatever its last report said.
  const percent = job.status === 'completed' ? 100 : p.total ? Math.min(100, (p.current / p.total) * 100) : null;
  return (
    <Stack gap={4}>
      {percent !== null && (
        <Progress value={percent} size="lg" animated={job.status === 'processing'} aria-label="progress" />
      )}
      <Text size="sm" data-testid="progress-text">
        {p.current}
        {p.total !== null ? ` of ${p.total}` : ''}
        {percent !== null ? ` (${Math.round(percent)}%)` : ''}
        {p.message ? ` · ${p.message}` : ''}
      </Text>
    </Stack>
  );
}

/** Why a job that could start does not: its type, or its tenant, is paused. */
function HeldNotice({ job, onAnswer }: { job: JobView; onAnswer(answer: Answer): void }) {
  const { pauses } = usePauses();
  const held = pauses && (job.status === 'pending' || job.status === 'scheduled') && pauseHolding(pauses, job.type);
  if (!held) return null;
  const what = held.scope === 'tenant' ? 'the tenant is paused' : `job type ${job.type} is paused`;
  return (
    <Alert color="orange" title={`Held: ${what}`} data-testid="job-held">
      <Group justify="space-between" align="flex-end" gap="xs">
        <Text size="sm">
          {job.status === 'pending' ? 'It waits, pending,' : 'Once due, it waits'} until{' '}
          {held.scope === 'tenant' ? 'the tenant' : 'the type'} is resumed. Paused{' '}
          <span title={formatInstant(held.pausedAt)}>{fromNow(held.pausedAt)}</span>
          {held.reason ? `: ${held.reason}` : ''}.
        </Text>
        <ResumeButton
          size="xs"
          scope={held.scope === 'tenant' ? { kind: 'tenant' } : { kind: 'type', type: job.type }}
          onAnswer={onAnswer}
        >
          {held.scope === 'tenant' ? 'Resume the tenant' : `Resume ${job.type}`}
        </ResumeButton>
      </Group>
    </Alert>
  );
}

export function JobPage() {
  const { id = '' } = useParams();
  const { api } = useSession();
  const job = useQuery(`job:${id}`, async (signal) =>
    dataOf(await api.GET('/v1/jobs/{id}', { params: { path: { id } }, signal })),
  );
  const events = useQuery(`events:${id}`, async (signal) =>
    dataOf(await api.GET('/v1/jobs/{id}/events', { params: { path: { id } }, signal })),
  );
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [busy, setBusy] = useState<JobCommand | null>(null);

  // Each change of the job reloads its history, at most once per half second.
  const reloadEvents = events.reload;
  const pending = useRef<number | null>(null);
  const scheduleEvents = useCallback(() => {
    if (pending.current !== null) return;
    pending.current = window.setTimeout(() => {
      pending.current = null;
      reloadEvents();
    }, 500);
  }, [reloadEvents]);
  useEffect(() => () => window.clearTimeout(pending.current ?? undefined), []);

  const setJob = job.set;
  const apply = useCallback(
    (view: JobView) => {
      setJob((current) => (current.updatedAt > view.updatedAt ? current : view));
      scheduleEvents();
    },
    [setJob, scheduleEvents],
  );
  useJobStream(id, apply);
  // The job's own stream ends with a terminal status; the tenant's stream shows what a retry does after it.
  useLiveJobs((view) => view.id === id && apply(view));

  async function command(name: JobCommand) {
    setBusy(name);
    const { answer: result, view } = await sendJobCommand(api, name, id);
    setAnswer(result);
    if (view) setJob(() => view);
    setBusy(null);
    scheduleEvents();
  }

  if (job.error) return <ErrorState error={job.error} retry={job.reload} />;
  if (job.loading || !job.data) return <Loading label="Loading the job" />;
  const view = job.data;
  const history: JobEvent[] = events.data?.items ?? [];
  const requested = history.find((e) => e.type === 'JobRequested');

  return (
    <Stack>
      <Breadcrumbs>
        <Anchor component={Link} to="/jobs">
          Jobs
        </Anchor>
        <Text ff="monospace" size="sm">
          {view.id}
        </Text>
      </Breadcrumbs>
      <Group justify="space-between" align="flex-start">
        <Stack gap={4}>
          <Group gap="sm">
            <Title order={1} size="h2">
              {view.type}
            </Title>
            <span data-testid="job-status" data-status={view.status}>
              <StatusBadge status={view.status} />
            </span>
            {view.status === 'failed' && <Badge color="red">dead letter</Badge>}
          </Group>
          <Text size="sm" c="dimmed">
            attempt {view.attempts} of {view.maxAttempts} ·{' '}
            <span data-testid="job-priority" data-priority={view.priority}>
              priority {describePriority(view.priority)}
            </span>{' '}
            · created {formatInstant(view.createdAt)}
          </Text>
        </Stack>
        <Group gap="xs">
          <Button
            color="orange"
            variant="light"
            leftSection={<IconPlayerStop size={16} />}
            onClick={() => void command('cancel')}
            loading={busy === 'cancel'}
            disabled={isTerminal(view.status)}
          >
            Cancel
          </Button>
          <Button
            variant="light"
            leftSection={<IconRefresh size={16} />}
            onClick={() => void command('retry')}
            loading={busy === 'retry'}
            disabled={view.status !== 'failed'}
          >
            Retry
          </Button>
        </Group>
      </Group>
      <HeldNotice job={view} onAnswer={setAnswer} />
      <AnswerAlert answer={answer} onClose={() => setAnswer(null)} />
      <Grid>
        <Grid.Col span={{ base: 12, md: 6 }}>
          <Stack>
            <Section title="Progress">
              <LiveProgress job={view} />
            </Section>
            <Section title={view.error ? 'Error' : 'Result'}>
              {view.error ? (
                <Alert color="red" title={view.error.code} data-testid="job-error">
                  {view.error.message}
                  <Text size="xs" mt={4}>
                    {view.error.retryable ? 'retryable' : 'not retryable'}
                  </Text>
                </Alert>
              ) : view.status === 'completed' ? (
                <Stack gap="xs">
                  {view.result !== undefined && view.result !== null && <Json value={view.result} />}
                  {view.resultUrl && (
                    <Text size="sm">
                      Result file: <Code>{view.resultUrl}</Code>
                    </Text>
                  )}
                </Stack>
              ) : view.status === 'cancelled' ? (
                <Text c="dimmed">Cancelled: there is no result.</Text>
              ) : (
                <Text c="dimmed">Not finished yet.</Text>
              )}
            </Section>
            <Section title="Request">
              {requested?.type === 'JobRequested' ? (
                <Stack gap="xs">
                  <Json value={requested.data.payload} />
                  <Table>
                    <Table.Tbody>
                      <Table.Tr>
                        <Table.Th>Backoff</Table.Th>
                        <Table.Td>
                          {requested.data.backoff.type}, {requested.data.backoff.delayMs} ms
                          {requested.data.backoff.maxDelayMs !== undefined
                            ? ` (at most ${requested.data.backoff.maxDelayMs} ms)`
                            : ''}
                        </Table.Td>
                      </Table.Tr>
                      <Table.Tr>
                        <Table.Th>Timeout</Table.Th>
                        <Table.Td>
                          {requested.data.timeoutMs !== null ? `${requested.data.timeoutMs} ms` : '—'}
                        </Table.Td>
                      </Table.Tr>
                      <Table.Tr>
                        <Table.Th>Run at</Table.Th>
                        <Table.Td>{formatInstant(requested.data.runAt)}</Table.Td>
                      </Table.Tr>
                      <Table.Tr>
                        <Table.Th>Metadata</Table.Th>
                        <Table.Td>
                          {Object.keys(requested.data.metadata).length > 0 ? (
                            <Code>{JSON.stringify(requested.data.metadata)}</Code>
                          ) : (
                            '—'
                          )}
                        </Table.Td>
                      </Table.Tr>
                    </Table.Tbody>
                  </Table>
                </Stack>
              ) : (
                <Text c="dimmed">The request is not stored yet.</Text>
              )}
            </Section>
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 6 }}>
          <Stack>
            <Section title="Attempts">
              <AttemptsTable events={history} />
            </Section>
            <Section title="Events">
              {events.error ? (
                <ErrorState error={events.error} retry={events.reload} />
              ) : events.loading && !events.data ? (
                <Loading label="Loading events" />
              ) : history.length === 0 ? (
                <Text c="dimmed">No event is stored yet; they appear as the job moves.</Text>
              ) : (
                <EventTimeline events={history} />
              )}
            </Section>
          </Stack>
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
