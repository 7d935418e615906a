import { Button, Group, NumberInput, Paper, Stack, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { isProblem, problemAnswer, type Answer } from '../api/api-client';
import { useJobTypes } from '../api/job-types';
import { useSession } from '../auth/session';
import { AnswerAlert } from '../ui/answer-alert';
import { ErrorState, Loading } from '../ui/states';
import { EMPTY_JOB_DRAFT, JobFields, jobRequestOf, type JobDraft } from './job-fields';
import type { FieldErrors } from './schema-form';

/** A job from a form drawn from its type's payload schema; the API's field errors are shown at their fields. */
export function NewJobPage() {
  const { api } = useSession();
  const navigate = useNavigate();
  const { types, error } = useJobTypes();
  const [draft, setDraft] = useState<JobDraft>(EMPTY_JOB_DRAFT);
  const [delaySeconds, setDelaySeconds] = useState<number | ''>('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [sending, setSending] = useState(false);

  if (error) return <ErrorState error={error} />;
  if (types.length === 0) return <Loading label="Reading the job types" />;

  /** An edit answers the API's complaints about that field: they are shown again only if the next try fails. */
  function edit(next: JobDraft, edited: keyof JobDraft) {
    setDraft(next);
    if (edited === 'type') {
      setErrors({});
      setAnswer(null);
      return;
    }
    setErrors((current) => Object.fromEntries(Object.entries(current).filter(([field]) => !field.startsWith(edited))));
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    const request = jobRequestOf(draft);
    if (!request) return;
    setSending(true);
    setErrors({});
    setAnswer(null);
    try {
      const body = { ...request, ...(delaySeconds !== '' ? { delayMs: delaySeconds * 1000 } : {}) };
      // The body is built from the schema the API published, so it is sent as such.
      const { data, error: problem, response } = await api.POST('/v1/jobs', { body: body as never });
      if (data) {
        navigate(`/jobs/${data.id}`);
        return;
      }
      const answered = problemAnswer(response.status, problem);
      if (isProblem(problem) && problem.errors) {
        setErrors(Object.fromEntries(problem.errors.map((e) => [e.field, e.message])));
      }
      setAnswer(answered);
    } catch (err) {
      setAnswer(problemAnswer(0, err));
    } finally {
      setSending(false);
    }
  }

  return (
    <Stack maw={760}>
      <Title order={1} size="h2">
        New job
      </Title>
      <Paper withBorder p="md" component="form" onSubmit={submit} aria-label="New job">
        <Stack>
          <JobFields types={types} draft={draft} errors={errors} onChange={edit}>
            <NumberInput
              label="Start after (seconds)"
              description="empty: now"
              placeholder="now"
              min={0}
              value={delaySeconds}
              onChange={(v) => setDelaySeconds(typeof v === 'number' ? v : '')}
              error={errors.delayMs}
            />
          </JobFields>
          <AnswerAlert answer={answer} onClose={() => setAnswer(null)} />
          <Group justify="flex-end">
            <Button type="submit" disabled={draft.type === null} loading={sending}>
              Create job
            </Button>
          </Group>
        </Stack>
      </Paper>
    </Stack>
  );
}
