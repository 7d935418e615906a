import { Button, Group, NumberInput, Paper, SimpleGrid, Stack, Text, TextInput, Title } from '@mantine/core';
import { useInterval } from '@mantine/hooks';
import { IconAlarmPlus } from '../ui/icons';
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { problemAnswer, type Answer, type JobView } from '../api/api-client';
import { useSession } from '../auth/session';
import { sendJobCommand } from '../job/job-commands';
import { JobTable } from '../jobs/job-table';
import { Pager } from '../jobs/pager';
import { useJobList } from '../jobs/use-job-list';
import { AnswerAlert } from '../ui/answer-alert';
import { Empty, ErrorState, Loading } from '../ui/states';
import { formatDuration, formatInstant } from '../ui/time';

/** The metadata entry that marks an `http` job as a timer; its value is when the timer is due. */
const TIMER_METADATA_KEY = 'jobline-timer';

function TimeLeft({ job, now }: { job: JobView; now: number }) {
  const due = job.metadata[TIMER_METADATA_KEY] ?? job.runAt;
  if (!due) return <Text c="dimmed">—</Text>;
  const seconds = Math.ceil((new Date(due).getTime() - now) / 1000);
  return (
    <Text size="sm" title={formatInstant(due)} data-testid="time-left">
      {job.status === 'scheduled' || job.status === 'pending' ? (seconds > 0 ? formatDuration(seconds) : 'due') : '—'}
    </Text>
  );
}

export function TimersPage() {
  const { api } = useSession();
  const [url, setUrl] = useState('');
  const [after, setAfter] = useState({ hours: 0, minutes: 1, seconds: 0 });
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [sending, setSending] = useState(false);
  const [now, setNow] = useState(Date.now());
  const ticker = useInterval(() => setNow(Date.now()), 1000);
  useEffect(() => {
    ticker.start();
    return ticker.stop;
  }, [ticker]);

  const filters = useMemo(() => ({ statuses: [], type: 'http', createdAfter: null }), []);
  const list = useJobList(filters, 50);
  const timers = list.jobs.filter((job) => TIMER_METADATA_KEY in job.metadata);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setSending(true);
    setAnswer(null);
    try {
      const { data, error, response } = await api.POST('/v1/timers', { body: { url, ...after } });
      setAnswer(
        data
          ? {
              ok: true,
              status: response.status,
              message: `timer ${data.id} is due in ${formatDuration(data.timeLeft)}`,
            }
          : problemAnswer(response.status, error),
      );
    } catch (err) {
      setAnswer(problemAnswer(0, err));
    } finally {
      setSending(false);
    }
  }

  async function cancel(id: string) {
    setAnswer((await sendJobCommand(api, 'cancel', id)).answer);
  }

  const unit = (name: keyof typeof after, label: string) => (
    <NumberInput
      label={label}
      min={0}
      value={after[name]}
      onChange={(v) => setAfter((a) => ({ ...a, [name]: typeof v === 'number' ? v : 0 }))}
    />
  );

  return (
    <Stack>
      <Title order={1} size="h2">
        Timers
      </Title>
      <Paper withBorder p="md" component="form" onSubmit={submit} aria-label="New timer">
        <Stack>
          <Text size="sm" c="dimmed">
            A timer POSTs <code>{'{id, payload}'}</code> to its URL when it is due, signed like callbacks.
          </Text>
          <TextInput
            label="URL"
            placeholder="https://example.com/hooks/timer"
            value={url}
            onChange={(e) => setUrl(e.currentTarget.value)}
            required
          />
          <SimpleGrid cols={3}>
            {unit('hours', 'Hours')}
            {unit('minutes', 'Minutes')}
            {unit('seconds', 'Seconds')}
          </SimpleGrid>
          <AnswerAlert answer={answer} onClose={() => setAnswer(null)} />
          <Group justify="flex-end">
            <Button type="submit" leftSection={<IconAlarmPlus size={16} />} loading={sending}>
              Set timer
            </Button>
          </Group>
        </Stack>
      </Paper>
      {list.error ? (
        <ErrorState error={list.error} retry={list.reload} />
      ) : list.loading ? (
        <Loading label="Loading timers" />
      ) : timers.length === 0 ? (
        <Empty>No timers among the latest http jobs.</Empty>
      ) : (
        <>
          <JobTable
            jobs={timers}
            extra={[
              { header: 'Time left', cell: (job) => <TimeLeft job={job} now={now} /> },
              {
                header: '',
                cell: (job) => (
                  <Button
                    size="compact-xs"
                    variant="light"
                    color="orange"
                    disabled={!['pending', 'scheduled'].includes(job.status)}
                    onClick={() => void cancel(job.id)}
                    aria-label={`Cancel timer ${job.id}`}
                  >
                    Cancel
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
