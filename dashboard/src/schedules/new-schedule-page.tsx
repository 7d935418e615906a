import {
  Button,
  Group,
  NumberInput,
  Paper,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMemo, useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { isProblem, problemAnswer, type Answer } from '../api/api-client';
import { useJobTypes } from '../api/job-types';
import { useSession } from '../auth/session';
import { EMPTY_JOB_DRAFT, errorsUnder, JobFields, jobRequestOf, type JobDraft } from '../new-job/job-fields';
import type { FieldErrors } from '../new-job/schema-form';
import { AnswerAlert } from '../ui/answer-alert';
import { ErrorState, Loading } from '../ui/states';
import { localTimeZone } from '../ui/time';
import type { ScheduleView } from './schedule-commands';

const UNIT_MS = { seconds: 1000, minutes: 60_000, hours: 3_600_000, days: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;

const CATCH_UP_CHOICES: { value: ScheduleView['catchUp']; label: string }[] = [
  { value: 'latest', label: 'latest: make only the latest missed fire' },
  { value: 'none', label: 'none: drop missed fires' },
  { value: 'all', label: 'all: make each missed fire' },
];
const OVERLAP_CHOICES: { value: ScheduleView['overlap']; label: string }[] = [
  { value: 'allow', label: 'allow: fire while the previous job runs' },
  { value: 'skip', label: 'skip: drop a fire while the previous job runs' },
  { value: 'bufferOne', label: 'bufferOne: keep one fire until the previous job ends' },
];

/** Every IANA zone this browser knows, UTC and its own first; the API checks the one chosen against its own. */
function timeZones(): string[] {
  const known = 'supportedValuesOf' in Intl ? Intl.supportedValuesOf('timeZone') : [];
  return [...new Set(['UTC', localTimeZone(), ...known])];
}

/** A `datetime-local` value (the browser's wall clock) as an instant, or undefined when empty. */
const instantOf = (local: string): string | undefined => (local ? new Date(local).toISOString() : undefined);

/**
 * A schedule from a form: its trigger (a cron expression in a time zone, or an interval), the job each fire creates
 * (the new-job form's fields), its policies and dates. The API's field errors are shown at their fields.
 */
export function NewSchedulePage() {
  const { api } = useSession();
  const navigate = useNavigate();
  const { types, error } = useJobTypes();
  const zones = useMemo(timeZones, []);
  const [name, setName] = useState('');
  const [trigger, setTrigger] = useState<'cron' | 'interval'>('cron');
  const [cron, setCron] = useState('');
  const [timeZone, setTimeZone] = useState(localTimeZone);
  const [every, setEvery] = useState<number | ''>(5);
  const [unit, setUnit] = useState<Unit>('minutes');
  const [draft, setDraft] = useState<JobDraft>(EMPTY_JOB_DRAFT);
  const [catchUp, setCatchUp] = useState<ScheduleView['catchUp']>('latest');
  const [catchUpLimit, setCatchUpLimit] = useState<number | ''>('');
  const [overlap, setOverlap] = useState<ScheduleView['overlap']>('allow');
  const [startAt, setStartAt] = useState('');
  const [endAt, setEndAt] = useState('');
  const [paused, setPaused] = useState(false);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [sending, setSending] = useState(false);

  if (error) return <ErrorState error={error} />;
  if (types.length === 0) return <Loading label="Reading the job types" />;

  /** An edit takes back the API's complaints about that field (and those within it). */
  const answered = (field: string) =>
    setErrors((current) =>
      Object.fromEntries(Object.entries(current).filter(([f]) => f !== field && !f.startsWith(`${field}.`))),
    );

  function editJob(next: JobDraft, edited: keyof JobDraft) {
    setDraft(next);
    answered(edited === 'type' ? 'job' : `job.${edited}`);
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setSending(true);
    setErrors({});
    setAnswer(null);
    try {
      const body = {
        ...(name.trim() ? { name: name.trim() } : {}),
        ...(trigger === 'cron'
          ? { cron: cron.trim(), timeZone }
          : every !== ''
            ? { intervalMs: Math.round(every * UNIT_MS[unit]) }
            : {}),
        job: jobRequestOf(draft) ?? undefined,
        catchUp,
        ...(catchUp === 'all' && catchUpLimit !== '' ? { catchUpLimit } : {}),
        overlap,
        startAt: instantOf(startAt),
        endAt: instantOf(endAt),
        ...(paused ? { paused } : {}),
      };
      // The job is built from the schema the API published, so the body is sent as such.
      const { data, error: problem, response } = await api.POST('/v1/schedules', { body: body as never });
      if (data) {
        navigate(`/schedules/${data.id}`);
        return;
      }
      if (isProblem(problem) && problem.errors) {
        setErrors(Object.fromEntries(problem.errors.map((e) => [e.field, e.message])));
      }
      setAnswer(problemAnswer(response.status, problem));
    } catch (err) {
      setAnswer(problemAnswer(0, err));
    } finally {
      setSending(false);
    }
  }

  const jobErrors = { ...errorsUnder(errors, 'job'), ...(errors.job ? { type: errors.job } : {}) };

  return (
    <Stack maw={760}>
      <Title order={1} size="h2">
        New schedule
      </Title>
      <Paper withBorder p="md" component="form" onSubmit={submit} aria-label="New schedule">
        <Stack>
          <TextInput
            label="Name"
            description="optional, to tell schedules apart"
            placeholder="weekday stand-up"
            value={name}
            onChange={(e) => {
              setName(e.currentTarget.value);
              answered('name');
            }}
            error={errors.name}
          />
          <Stack gap={4}>
            <Text size="sm" fw={500} id="fires-by">
              Fires by
            </Text>
            <SegmentedControl
              aria-labelledby="fires-by"
              value={trigger}
              onChange={(value) => {
                setTrigger(value as 'cron' | 'interval');
                for (const field of ['cron', 'timeZone', 'intervalMs']) answered(field);
              }}
              data={[
                { value: 'cron', label: 'Cron expression' },
                { value: 'interval', label: 'Interval' },
              ]}
              style={{ alignSelf: 'flex-start' }}
            />
          </Stack>
          {trigger === 'cron' ? (
            <SimpleGrid cols={{ base: 1, xs: 2 }}>
              <TextInput
                label="Cron expression"
                description="minute hour day month weekday; 6 fields: seconds first"
                placeholder="0 9 * * 1-5"
                styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
                value={cron}
                onChange={(e) => {
                  setCron(e.currentTarget.value);
                  answered('cron');
                }}
                error={errors.cron}
                withAsterisk
              />
              <Select
                label="Time zone"
                description="the zone the expression is read in"
                data={zones}
                value={timeZone}
                onChange={(value) => {
                  setTimeZone(value ?? 'UTC');
                  answered('timeZone');
                }}
                searchable
                allowDeselect={false}
                limit={100}
                error={errors.timeZone}
              />
            </SimpleGrid>
          ) : (
            <Stack gap={4}>
              <SimpleGrid cols={2}>
                <NumberInput
                  label="Every"
                  min={1}
                  value={every}
                  onChange={(v) => {
                    setEvery(typeof v === 'number' ? v : '');
                    answered('intervalMs');
                  }}
                  error={errors.intervalMs}
                  withAsterisk
                />
                <Select
                  label="Unit"
                  data={Object.keys(UNIT_MS)}
                  value={unit}
                  onChange={(value) => value && setUnit(value as Unit)}
                  allowDeselect={false}
                />
              </SimpleGrid>
              <Text size="xs" c="dimmed">
                At least a second; counted from the start, or from now.
              </Text>
            </Stack>
          )}
          <Text size="sm" fw={600} mt="xs">
            The job each fire creates
          </Text>
          <JobFields types={types} draft={draft} errors={jobErrors} onChange={editJob} />
          <Text size="sm" fw={600} mt="xs">
            When and how
          </Text>
          <SimpleGrid cols={{ base: 1, xs: 2 }}>
            <TextInput
              type="datetime-local"
              label="Starts"
              description={`no fire before; your time (${localTimeZone()})`}
              value={startAt}
              onChange={(e) => {
                setStartAt(e.currentTarget.value);
                answered('startAt');
              }}
              error={errors.startAt}
            />
            <TextInput
              type="datetime-local"
              label="Ends"
              description="no fire from then on; empty: never"
              value={endAt}
              onChange={(e) => {
                setEndAt(e.currentTarget.value);
                answered('endAt');
              }}
              error={errors.endAt}
            />
            <Select
              label="Catch-up"
              description="fires missed while no runner could make them"
              data={CATCH_UP_CHOICES}
              value={catchUp}
              onChange={(value) => value && setCatchUp(value as ScheduleView['catchUp'])}
              allowDeselect={false}
              error={errors.catchUp}
            />
            <Select
              label="Overlap"
              description="a fire while the previous fire's job runs"
              data={OVERLAP_CHOICES}
              value={overlap}
              onChange={(value) => value && setOverlap(value as ScheduleView['overlap'])}
              allowDeselect={false}
              error={errors.overlap}
            />
            {catchUp === 'all' && (
              <NumberInput
                label="Catch up at most"
                description="the latest missed fires; 1 to 1000"
                placeholder="100"
                min={1}
                max={1000}
                allowDecimal={false}
                value={catchUpLimit}
                onChange={(v) => {
                  setCatchUpLimit(typeof v === 'number' ? v : '');
                  answered('catchUpLimit');
                }}
                error={errors.catchUpLimit}
              />
            )}
          </SimpleGrid>
          <Switch
            label="Create it paused"
            description="it fires once resumed"
            checked={paused}
            onChange={(e) => setPaused(e.currentTarget.checked)}
          />
          <AnswerAlert answer={answer} onClose={() => setAnswer(null)} />
          <Group justify="flex-end">
            <Button type="submit" loading={sending}>
              Create schedule
            </Button>
          </Group>
        </Stack>
      </Paper>
    </Stack>
  );
}
