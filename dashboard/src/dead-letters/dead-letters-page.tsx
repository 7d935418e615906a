import {
  Alert,
  Anchor,
  Badge,
  Button,
  Group,
  List,
  Paper,
  Stack,
  Table,
  Text,
  Title,
  UnstyledButton,
} from '@mantine/core';
import { IconRefresh } from '../ui/icons';
import { useMemo, useState } from 'react';
import { Link } from 'react-router';
import { problemAnswer, type Answer, type JobView } from '../api/api-client';
import { useSession } from '../auth/session';
import { sendJobCommand } from '../job/job-commands';
import { JobTable } from '../jobs/job-table';
import { Pager } from '../jobs/pager';
import { useJobList } from '../jobs/use-job-list';
import { useJobStats } from '../overview/use-job-stats';
import { Empty, ErrorState, Loading } from '../ui/states';

interface Group {
  type: string;
  code: string;
  count: number;
}

/** Failed jobs, grouped by type and last error code; redrive one or a selection and watch them run again. */
export function DeadLettersPage() {
  const { api } = useSession();
  const stats = useJobStats();
  const [group, setGroup] = useState<Group | null>(null);
  const filters = useMemo(
    () => ({ statuses: ['failed' as const], type: group?.type ?? null, createdAfter: null }),
    [group?.type],
  );
  const list = useJobList(filters, 50);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [answers, setAnswers] = useState<{ jobId: string; answer: Answer }[]>([]);
  const [redriving, setRedriving] = useState(false);
  const [sent, setSent] = useState<{ done: number; of: number } | null>(null);
  /** The bulk job a "Redrive all" started, or what the API answered instead. */
  const [bulk, setBulk] = useState<{ group: Group; view?: JobView; answer: Answer } | null>(null);

  // A redriven job stays listed, its status changing live, until the list is read again.
  const shown = list.jobs.filter(
    (job) => !group || job.status !== 'failed' || (job.error?.code ?? 'none') === group.code,
  );

  function select(ids: string[], on: boolean) {
    setSelected((current) => {
      const next = new Set(current);
      for (const id of ids) {
        if (on) next.add(id);
        else next.delete(id);
      }
      return next;
    });
  }

  async function redrive(ids: string[]) {
    setRedriving(true);
    const results: { jobId: string; answer: Answer }[] = [];
    for (const jobId of ids) {
      setSent({ done: results.length, of: ids.length });
      const { answer } = await sendJobCommand(api, 'retry', jobId);
      results.push({ jobId, answer });
    }
    setSent(null);
    setAnswers(results);
    setSelected(new Set());
    setRedriving(false);
    stats.reload();
  }

  /** Every failed job of the group, redriven by one `deadLetters.redrive` job on the server. */
  async function redriveGroup(g: Group) {
    setRedriving(true);
    try {
      const { data, error, response } = await api.POST('/v1/dead-letters/redrive', {
        body: { type: g.type, code: g.code },
      });
      setBulk(
        data
          ? { group: g, view: data, answer: { ok: true, status: response.status, message: 'bulk redrive accepted' } }
          : { group: g, answer: problemAnswer(response.status, error) },
      );
    } catch (err) {
      setBulk({ group: g, answer: problemAnswer(0, err) });
    } finally {
      setRedriving(false);
    }
    stats.reload();
  }

  const groups = stats.data?.deadLetters ?? [];
  const waiting = groups.reduce((sum, g) => sum + g.count, 0);

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1} size="h2">
          Dead letters
        </Title>
        <Badge size="lg" color={waiting > 0 ? 'red' : 'gray'} data-testid="dead-letters-waiting">
          {waiting} waiting
        </Badge>
      </Group>
      <Paper withBorder p="sm">
        <Title order={2} size="h5" mb="xs">
          By type and error
        </Title>
        {stats.error ? (
          <ErrorState error={stats.error} retry={stats.reload} />
        ) : stats.loading ? (
          <Loading />
        ) : groups.length === 0 ? (
          <Text c="dimmed">No job has failed for good.</Text>
        ) : (
          <Table highlightOnHover data-testid="dead-letter-groups">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Type</Table.Th>
                <Table.Th>Error code</Table.Th>
                <Table.Th>Jobs</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {groups.map((g) => {
                const active = group?.type === g.type && group.code === g.code;
                return (
                  <Table.Tr key={`${g.type}:${g.code}`} bg={active ? 'var(--mantine-primary-color-light)' : undefined}>
                    <Table.Td>
                      <UnstyledButton
                        onClick={() => setGroup(active ? null : g)}
                        aria-pressed={active}
                        fw={active ? 700 : undefined}
                      >
                        {g.type}
                      </UnstyledButton>
                    </Table.Td>
                    <Table.Td>
                      <code>{g.code}</code>
                    </Table.Td>
                    <Table.Td>{g.count}</Table.Td>
                    <Table.Td>
                      <Button
                        size="compact-xs"
                        variant="light"
                        disabled={redriving}
                        onClick={() => void redriveGroup(g)}
                        aria-label={`Redrive every ${g.type} job that failed with ${g.code}`}
                      >
                        Redrive all
                      </Button>
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        )}
      </Paper>
      <Group justify="space-between">
        <Text size="sm" c="dimmed">
          {group ? `${group.type} jobs that failed with ${group.code}` : 'Every failed job'}
          {group && (
            <Button variant="subtle" size="compact-sm" ml="xs" onClick={() => setGroup(null)}>
              show all
            </Button>
          )}
        </Text>
        <Group gap="xs">
          <Button
            leftSection={<IconRefresh size={16} />}
            disabled={selected.size === 0}
            loading={redriving}
            onClick={() => void redrive([...selected])}
          >
            Redrive selected ({selected.size})
          </Button>
        </Group>
      </Group>
      {sent && (
        <Text size="sm" role="status">
          Redriving {sent.done + 1} of {sent.of}…
        </Text>
      )}
      {bulk && (
        <Alert
          color={bulk.answer.ok ? 'teal' : 'orange'}
          title={`Redrive every ${bulk.group.type} job that failed with ${bulk.group.code}`}
          withCloseButton
          onClose={() => setBulk(null)}
          data-testid="bulk-answer"
        >
          {bulk.view ? (
            <Text size="sm">
              {bulk.answer.status}: redriven by bulk job{' '}
              <Anchor component={Link} to={`/jobs/${bulk.view.id}`} ff="monospace">
                {bulk.view.id}
              </Anchor>
              , which shows its progress and how many it redrove.
            </Text>
          ) : (
            <Text size="sm">
              {bulk.answer.status}: {bulk.answer.message}
            </Text>
          )}
        </Alert>
      )}
      {answers.length > 0 && (
        <Alert
          color={answers.every((a) => a.answer.ok) ? 'teal' : 'orange'}
          title={`Redrive: ${answers.filter((a) => a.answer.ok).length} of ${answers.length} accepted`}
          withCloseButton
          onClose={() => setAnswers([])}
          data-testid="api-answer"
        >
          <List size="sm">
            {answers.map(({ jobId, answer }) => (
              <List.Item key={jobId}>
                <code>{jobId.slice(-12)}</code> {answer.status}: {answer.message}
              </List.Item>
            ))}
          </List>
        </Alert>
      )}
      {list.error ? (
        <ErrorState error={list.error} retry={list.reload} />
      ) : list.loading ? (
        <Loading label="Loading dead letters" />
      ) : shown.length === 0 ? (
        <Empty>No dead letters here. Jobs that fail for good appear as they fail.</Empty>
      ) : (
        <>
          <JobTable
            jobs={shown}
            progress={false}
            selected={selected}
            onSelect={select}
            extra={[
              {
                header: 'Last error',
                cell: (job: JobView) =>
                  job.error ? (
                    <Text size="sm" c="red" lineClamp={2} title={job.error.message}>
                      <code>{job.error.code}</code> {job.error.message}
                    </Text>
                  ) : (
                    '—'
                  ),
              },
              {
                header: '',
                cell: (job: JobView) => (
                  <Button
                    size="compact-xs"
                    variant="light"
                    disabled={job.status !== 'failed' || redriving}
                    onClick={() => void redrive([job.id])}
                    aria-label={`Redrive job ${job.id}`}
                  >
                    Redrive
                  </Button>
                ),
              },
            ]}
          />
          <Pager list={list} />
        </>
      )}
    </Stack>
  );
}
