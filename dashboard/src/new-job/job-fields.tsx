import { Alert, NumberInput, Select, SimpleGrid, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import type { JobTypeSchema } from '../api/job-types';
import { pauseHolding, usePauses } from '../pauses/pauses-context';
import { DEFAULT_PRIORITY } from '../ui/priority-badge';
import { isSimpleObject, JsonField, SchemaFields, templateOf, type FieldErrors, type FormValue } from './schema-form';

/** A job request as a form holds it, before it is sent: empty numbers are left out, for the API's defaults. */
export interface JobDraft {
  type: string | null;
  payload: unknown;
  priority: number | '';
  maxAttempts: number | '';
}

export const EMPTY_JOB_DRAFT: JobDraft = { type: null, payload: undefined, priority: '', maxAttempts: '' };

/** The body of `POST /v1/jobs` (or a schedule's `job`) the draft stands for; null until it has a type. */
export function jobRequestOf(draft: JobDraft): Record<string, unknown> | null {
  if (draft.type === null) return null;
  return {
    type: draft.type,
    payload: draft.payload ?? {},
    ...(draft.priority !== '' ? { priority: draft.priority } : {}),
    ...(draft.maxAttempts !== '' ? { maxAttempts: draft.maxAttempts } : {}),
  };
}

/** The field errors of a nested request (`job.payload.ms`) as the job fields name them (`payload.ms`). */
export function errorsUnder(errors: FieldErrors, prefix: string): FieldErrors {
  return Object.fromEntries(
    Object.entries(errors).flatMap(([field, message]) =>
      field.startsWith(`${prefix}.`) ? [[field.slice(prefix.length + 1), message]] : [],
    ),
  );
}

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

function PausedTypeNote({ type }: { type: string }) {
  const { pauses } = usePauses();
  const pause = pauses && pauseHolding(pauses, type);
  if (!pause) return null;
  return (
    <Alert color="orange" data-testid="type-paused-note">
      {pause.scope === 'tenant' ? 'The tenant is paused' : `Job type ${type} is paused`}
      {pause.reason ? ` (${pause.reason})` : ''}: its jobs are accepted and wait, pending, until it is resumed.
    </Alert>
  );
}

/**
 * A job's type, its payload drawn from the type's schema, its priority and attempts: the fields of the new-job form,
 * and of the job a schedule creates. `children` go beside priority and attempts. `onChange` names the field edited,
 * so that the form can take back the API's complaints about it.
 */
export function JobFields({
  types,
  draft,
  errors,
  onChange,
  children,
}: {
  types: readonly JobTypeSchema[];
  draft: JobDraft;
  errors: FieldErrors;
  onChange(draft: JobDraft, edited: keyof JobDraft): void;
  children?: ReactNode;
}) {
  const jobType = types.find((t) => t.type === draft.type) ?? null;

  function choose(next: string | null) {
    const chosen = types.find((t) => t.type === next);
    const payload = chosen && !isSimpleObject(chosen.payload) ? templateOf(chosen.payload) : undefined;
    onChange({ ...draft, type: next, payload }, 'type');
  }

  return (
    <>
      <Select
        label="Type"
        placeholder="Choose a job type"
        data={types.map((t) => t.type)}
        value={draft.type}
        onChange={choose}
        error={errors.type}
        allowDeselect={false}
        searchable
        data-testid="job-type"
      />
      {jobType ? (
        <>
          <PausedTypeNote type={jobType.type} />
          <Text size="sm" fw={600}>
            Payload
          </Text>
          <PayloadEditor
            jobType={jobType}
            payload={draft.payload}
            errors={errors}
            onChange={(payload) => onChange({ ...draft, payload }, 'payload')}
          />
          <SimpleGrid cols={{ base: 1, xs: 2, sm: 3 }}>
            <NumberInput
              label="Priority"
              description="1 lowest, 9 highest"
              placeholder={String(DEFAULT_PRIORITY)}
              min={1}
              max={9}
              allowDecimal={false}
              value={draft.priority}
              onChange={(v) => onChange({ ...draft, priority: typeof v === 'number' ? v : '' }, 'priority')}
              error={errors.priority}
            />
            <NumberInput
              label="Attempts at most"
              description="1 to 25"
              placeholder="3"
              min={1}
              max={25}
              allowDecimal={false}
              value={draft.maxAttempts}
              onChange={(v) => onChange({ ...draft, maxAttempts: typeof v === 'number' ? v : '' }, 'maxAttempts')}
              error={errors.maxAttempts}
            />
            {children}
          </SimpleGrid>
        </>
      ) : (
        <Alert color="gray">The form follows the payload schema of the type you choose.</Alert>
      )}
    </>
  );
}
