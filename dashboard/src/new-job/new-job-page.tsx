import { Alert, Button, Group, NumberInput, Paper, Select, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { isProblem, problemAnswer, type Answer } from '../api/api-client';
import { useJobTypes, type JobTypeSchema } from '../api/job-types';
import { useSession } from '../auth/session';
import { AnswerAlert } from '../ui/answer-alert';
import { ErrorState, Loading } from '../ui/states';
import { isSimpleObject, JsonField, SchemaFields, templateOf, type FieldErrors, type FormValue } from './schema-form';

function PayloadEditor({
  jobType,
  payload,
  errors,
  onChange,
}: {
  jobType: JobTypeSchema;
  payload: unknown;
  errors: FieldErrors;
  onChange(payload: unknown): void;
}) {
  if (isSimpleObject(jobType.payload)) {
    return (
      <SchemaFields
        schema={jobType.payload}
        path="payload"
        value={(payload as FormValue | undefined) ?? {}}
        errors={errors}
        onChange={onChange}
      />
    );
  }
  return (
    <JsonField
      key={jobType.type}
      name="payload"
      schema={jobType.payload}
      value={payload}
      required
      error={errors.payload}
      onChange={onChange}
    />
  );
}

/** A job from a form drawn from its type's payload schema; the API's field errors are shown at their fields. */
export function NewJobPage() {
  const { api } = useSession();
  const navigate = useNavigate();
  const { types, error } = useJobTypes();
  const [type, setType] = useState<string | null>(null);
  const [payload, setPayload] = useState<unknown>(undefined);
  const [maxAttempts, setMaxAttempts] = useState<number | ''>('');
  const [delaySeconds, setDelaySeconds] = useState<number | ''>('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [sending, setSending] = useState(false);

  if (error) return <ErrorState error={error} />;
  if (types.length === 0) return <Loading label="Reading the job types" />;
  const jobType = types.find((t) => t.type === type) ?? null;

  function choose(next: string | null) {
    setType(next);
    const chosen = types.find((t) => t.type === next);
    setPayload(chosen && !isSimpleObject(chosen.payload) ? templateOf(chosen.payload) : undefined);
    setErrors({});
    setAnswer(null);
  }

  /** An edit answers the API's complaints about the payload: they are shown again only if the next try fails. */
  function editPayload(next: unknown) {
    setPayload(next);
    setErrors((current) =>
      Object.fromEntries(Object.entries(current).filter(([field]) => !field.startsWith('payload'))),
    );
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!jobType) return;
    setSending(true);
    setErrors({});
    setAnswer(null);
    try {
      const body = {
        type: jobType.type,
        payload: payload ?? {},
        ...(maxAttempts !== '' ? { maxAttempts } : {}),
        ...(delaySeconds !== '' ? { delayMs: delaySeconds * 1000 } : {}),
      };
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
          <Select
            label="Type"
            placeholder="Choose a job type"
            data={types.map((t) => t.type)}
            value={type}
            onChange={choose}
            error={errors.type}
            allowDeselect={false}
            searchable
            data-testid="job-type"
          />
          {jobType ? (
            <>
              <Text size="sm" fw={600}>
                Payload
              </Text>
              <PayloadEditor jobType={jobType} payload={payload} errors={errors} onChange={editPayload} />
              <SimpleGrid cols={{ base: 1, xs: 2 }}>
                <NumberInput
                  label="Attempts at most"
                  placeholder="3"
                  min={1}
                  max={25}
                  value={maxAttempts}
                  onChange={(v) => setMaxAttempts(typeof v === 'number' ? v : '')}
                  error={errors.maxAttempts}
                />
                <NumberInput
                  label="Start after (seconds)"
                  placeholder="now"
                  min={0}
                  value={delaySeconds}
                  onChange={(v) => setDelaySeconds(typeof v === 'number' ? v : '')}
                  error={errors.delayMs}
                />
              </SimpleGrid>
            </>
          ) : (
            <Alert color="gray">The form follows the payload schema of the type you choose.</Alert>
          )}
          <AnswerAlert answer={answer} onClose={() => setAnswer(null)} />
          <Group justify="flex-end">
            <Button type="submit" disabled={!jobType} loading={sending}>
              Create job
            </Button>
          </Group>
        </Stack>
      </Paper>
    </Stack>
  );
}
