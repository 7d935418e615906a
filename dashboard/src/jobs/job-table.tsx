import { Anchor, Checkbox, Group, Progress, ScrollArea, Table, Text, Tooltip } from '@mantine/core';
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import type { JobView } from '../api/api-client';
import { PriorityBadge } from '../ui/priority-badge';
import { StatusBadge } from '../ui/status-badge';
import { formatInstant, fromNow } from '../ui/time';

export interface ExtraColumn {
  header: string;
  cell(job: JobView): ReactNode;
}

export function ProgressCell({ job }: { job: JobView }) {
  const progress = job.progress;
  if (!progress) return <Text c="dimmed">—</Text>;
  // A completed job is done whatever its last report said, as on its own page.
  const done = job.status === 'completed';
  if (!done && (progress.total === null || progress.total === 0)) return <Text size="sm">{progress.current}</Text>;
  const percent = done ? 100 : Math.min(100, (progress.current / progress.total!) * 100);
  return (
    <Tooltip
      label={`${progress.current}${progress.total ? ` of ${progress.total}` : ''}${progress.message ? `: ${progress.message}` : ''}`}
    >
      <Progress value={percent} size="sm" w={80} aria-label={`${Math.round(percent)}% done`} />
    </Tooltip>
  );
}

/** Jobs as rows; each links to its page, its priority beside its type when not the default. With `selected`, rows can be ticked. */
export function JobTable({
  jobs,
  extra = [],
  selected,
  onSelect,
  progress = true,
}: {
  jobs: readonly JobView[];
  extra?: ExtraColumn[];
  /** Whether to show the progress column (not for jobs that failed for good). */
  progress?: boolean;
  selected?: ReadonlySet<string>;
  onSelect?: (ids: string[], on: boolean) => void;
}) {
  const selectable = Boolean(selected && onSelect);
  const allSelected = selectable && jobs.length > 0 && jobs.every((j) => selected!.has(j.id));
  return (
    <ScrollArea type="auto">
      <Table striped highlightOnHover verticalSpacing="xs" miw={720} data-testid="job-table">
        <Table.Thead>
          <Table.Tr>
            {selectable && (
              <Table.Th w={40}>
                <Checkbox
                  aria-label="Select every job shown"
                  checked={allSelected}
                  indeterminate={!allSelected && jobs.some((j) => selected!.has(j.id))}
                  onChange={(e) =>
                    onSelect!(
                      jobs.map((j) => j.id),
                      e.currentTarget.checked,
                    )
                  }
                />
              </Table.Th>
            )}
            <Table.Th>Job</Table.Th>
            <Table.Th>Type</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>Attempts</Table.Th>
            {progress && <Table.Th>Progress</Table.Th>}
            {extra.map((c) => (
              <Table.Th key={c.header}>{c.header}</Table.Th>
            ))}
            <Table.Th>Created</Table.Th>
            <Table.Th>Updated</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {jobs.map((job) => (
            <Table.Tr key={job.id} data-job-id={job.id} data-status={job.status}>
              {selectable && (
                <Table.Td>
                  <Checkbox
                    aria-label={`Select job ${job.id}`}
                    checked={selected!.has(job.id)}
                    onChange={(e) => onSelect!([job.id], e.currentTarget.checked)}
                  />
                </Table.Td>
              )}
              <Table.Td>
                <Anchor component={Link} to={`/jobs/${job.id}`} ff="monospace" size="sm" title={job.id}>
                  {job.id.slice(-12)}
                </Anchor>
              </Table.Td>
              <Table.Td>
                <Group gap={4} wrap="nowrap">
                  <Text size="sm">{job.type}</Text>
                  <PriorityBadge priority={job.priority} />
                </Group>
              </Table.Td>
              <Table.Td style={{ whiteSpace: 'nowrap' }}>
                <StatusBadge status={job.status} />
              </Table.Td>
              <Table.Td>
                <Text size="sm">
                  {job.attempts} / {job.maxAttempts}
                </Text>
              </Table.Td>
              {progress && (
                <Table.Td>
                  <ProgressCell job={job} />
                </Table.Td>
              )}
              {extra.map((c) => (
                <Table.Td key={c.header}>{c.cell(job)}</Table.Td>
              ))}
              <Table.Td>
                <Text size="sm" title={formatInstant(job.createdAt)}>
                  {fromNow(job.createdAt)}
                </Text>
              </Table.Td>
              <Table.Td>
                <Text size="sm" title={formatInstant(job.updatedAt)}>
                  {fromNow(job.updatedAt)}
                </Text>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </ScrollArea>
  );
}
