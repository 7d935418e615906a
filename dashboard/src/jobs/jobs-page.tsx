import { Button, Group, MultiSelect, Paper, Select, Stack, TextInput, Title } from '@mantine/core';
import { IconSearch } from '../ui/icons';
import { useMemo, useState, type FormEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { JOB_STATUSES, type JobStatus } from '../api/api-client';
import { useJobTypes } from '../api/job-types';
import { Empty, ErrorState, Loading } from '../ui/states';
import { JobTable } from './job-table';
import { Pager } from './pager';
import { useJobList, type JobFilters } from './use-job-list';

export const TIME_RANGES: { value: string; label: string; seconds: number | null }[] = [
  { value: '15m', label: 'Last 15 minutes', seconds: 900 },
  { value: '1h', label: 'Last hour', seconds: 3600 },
  { value: '24h', label: 'Last 24 hours', seconds: 86_400 },
  { value: '7d', label: 'Last 7 days', seconds: 604_800 },
  { value: 'all', label: 'Any time', seconds: null },
];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `team=red, env=prod` → `{team: 'red', env: 'prod'}`; null when a part is not `key=value`. */
export function parseMetadataFilter(text: string): Record<string, string> | null {
  const entries = text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const at = part.indexOf('=');
      return at > 0 ? [part.slice(0, at).trim(), part.slice(at + 1).trim()] : null;
    });
  return entries.every((e) => e !== null) ? Object.fromEntries(entries as [string, string][]) : null;
}

export function JobsPage() {
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const { types } = useJobTypes();
  const [search, setSearch] = useState('');
  const [searchError, setSearchError] = useState<string | null>(null);

  const statuses = (params.get('status')?.split(',') ?? []).filter((s): s is JobStatus =>
    (JOB_STATUSES as readonly string[]).includes(s),
  );
  const type = params.get('type');
  const metadataFilter = params.get('metadata') ?? '';
  const metadata = parseMetadataFilter(metadataFilter);
  const range = TIME_RANGES.find((r) => r.value === params.get('range')) ?? TIME_RANGES.at(-1)!;
  // The range's start is fixed when it is chosen, so that live updates and paging see one stable query.
  const [rangeStart, setRangeStart] = useState(() => Date.now());
  const filters = useMemo<JobFilters>(
    () => ({
      statuses,
      type,
      createdAfter: range.seconds === null ? null : new Date(rangeStart - range.seconds * 1000).toISOString(),
      metadata: metadata ?? {},
    }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [statuses.join(','), type, range.value, rangeStart, JSON.stringify(metadata)],
  );
  const list = useJobList(filters);

  const update = (name: string, value: string | null) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  };

  function find(event: FormEvent) {
    event.preventDefault();
    const id = search.trim();
    if (!UUID.test(id)) {
      setSearchError('A job id is a UUID');
      return;
    }
    navigate(`/jobs/${id.toLowerCase()}`);
  }

  return (
    <Stack>
      <Title order={1} size="h2">
        Jobs
      </Title>
      <Paper withBorder p="sm">
        <Group align="flex-end" gap="sm">
          <MultiSelect
            label="Status"
            placeholder={statuses.length ? undefined : 'any'}
            data={[...JOB_STATUSES]}
            value={statuses}
            onChange={(value) => update('status', value.join(','))}
            clearable
            w={{ base: '100%', sm: 260 }}
          />
          <Select
            label="Type"
            placeholder="any"
            data={types.map((t) => t.type)}
            value={type}
            onChange={(value) => update('type', value)}
            clearable
            w={{ base: '100%', sm: 170 }}
          />
          <Select
            label="Created"
            data={TIME_RANGES.map(({ value, label }) => ({ value, label }))}
            value={range.value}
            onChange={(value) => {
              setRangeStart(Date.now());
              update('range', value === 'all' ? null : value);
            }}
            allowDeselect={false}
            w={{ base: '100%', sm: 170 }}
          />
          <TextInput
            label="Metadata"
            placeholder="key=value, …"
            defaultValue={metadataFilter}
            onBlur={(e) => update('metadata', e.currentTarget.value.trim() || null)}
            onKeyDown={(e) => e.key === 'Enter' && update('metadata', e.currentTarget.value.trim() || null)}
            error={metadata === null ? 'write key=value, comma-separated' : undefined}
            w={{ base: '100%', sm: 200 }}
          />
          <form onSubmit={find} style={{ flex: 1, minWidth: 220 }}>
            <Group gap="xs" align="flex-end" wrap="nowrap">
              <TextInput
                label="Find a job by id"
                placeholder="0199…"
                value={search}
                onChange={(e) => {
                  setSearch(e.currentTarget.value);
                  setSearchError(null);
                }}
                error={searchError}
                style={{ flex: 1 }}
              />
              <Button type="submit" variant="default" aria-label="Open the job" px="sm">
                <IconSearch size={16} />
              </Button>
            </Group>
          </form>
        </Group>
      </Paper>
      {list.error ? (
        <ErrorState error={list.error} retry={list.reload} />
      ) : list.loading ? (
        <Loading label="Loading jobs" />
      ) : list.jobs.length === 0 ? (
        <Empty>No jobs match these filters yet. New ones appear here as they are created.</Empty>
      ) : (
        <>
          <JobTable jobs={list.jobs} />
          <Pager list={list} />
        </>
      )}
    </Stack>
  );
}
