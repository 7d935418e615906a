import { Button, Group, Text } from '@mantine/core';
import type { JobList } from './use-job-list';

/** What a pager needs of a list paged by cursor. */
export type Paging = Pick<JobList, 'page' | 'hasNext' | 'hasPrevious' | 'next' | 'previous'>;

export function Pager({ list }: { list: Paging }) {
  if (!list.hasNext && !list.hasPrevious) return null;
  return (
    <Group justify="flex-end" gap="xs">
      <Button variant="default" size="xs" disabled={!list.hasPrevious} onClick={list.previous}>
        Newer
      </Button>
      <Text size="sm" c="dimmed" aria-live="polite">
        page {list.page}
      </Text>
      <Button variant="default" size="xs" disabled={!list.hasNext} onClick={list.next}>
        Older
      </Button>
    </Group>
  );
}
