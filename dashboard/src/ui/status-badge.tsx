import { Badge } from '@mantine/core';
import type { JobStatus } from '../api/api-client';

export const STATUS_COLORS: Record<JobStatus, string> = {
  pending: 'gray',
  scheduled: 'indigo',
  processing: 'blue',
  completed: 'teal',
  failed: 'red',
  cancelled: 'orange',
  discarded: 'dark',
};

export function StatusBadge({ status }: { status: JobStatus }) {
  return (
    <Badge color={STATUS_COLORS[status]} variant="light" data-status={status}>
      {status}
    </Badge>
  );
}
