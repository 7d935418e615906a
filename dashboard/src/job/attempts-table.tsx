import { ScrollArea, Table, Text } from '@mantine/core';
import type { JobEvent } from '../api/api-client';
import { formatInstant } from '../ui/time';

interface Attempt {
  attempt: number;
  startedAt: string | null;
  runnerId: string | null;
  outcome: string;
  error: string | null;
  nextRunAt: string | null;
}

/** Each attempt, from the events: when and where it ran, how it ended, and when the next one was due. */
export function attemptsOf(events: readonly JobEvent[]): Attempt[] {
  const attempts = new Map<number, Attempt>();
  const at = (n: number) => {
    let attempt = attempts.get(n);
    if (!attempt) {
      attempt = { attempt: n, startedAt: null, runnerId: null, outcome: 'running', error: null, nextRunAt: null };
      attempts.set(n, attempt);
    }
    return attempt;
  };
  for (const event of events) {
    if (event.type === 'JobStarted')
      Object.assign(at(event.data.attempt), { startedAt: event.occurredAt, runnerId: event.data.runnerId });
    else if (event.type === 'JobCompleted') at(event.data.attempt).outcome = 'completed';
    else if (event.type === 'JobAttemptFailed') {
      Object.assign(at(event.data.attempt), {
        outcome: event.data.nextRunAt ? 'failed, retried' : 'failed',
        error: `${event.data.error.code}: ${event.data.error.message}`,
        nextRunAt: event.data.nextRunAt,
      });
    }
  }
  return [...attempts.values()].sort((a, b) => a.attempt - b.attempt);
}

export function AttemptsTable({ events }: { events: readonly JobEvent[] }) {
  const attempts = attemptsOf(events);
  if (attempts.length === 0) return <Text c="dimmed">No attempt has started yet.</Text>;
  return (
    <ScrollArea type="auto">
      <Table miw={480} data-testid="attempts">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>#</Table.Th>
            <Table.Th>Started</Table.Th>
            <Table.Th>Outcome</Table.Th>
            <Table.Th>Error</Table.Th>
            <Table.Th>Retry at</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {attempts.map((a) => (
            <Table.Tr key={a.attempt}>
              <Table.Td>{a.attempt}</Table.Td>
              <Table.Td>
                <Text size="sm">{formatInstant(a.startedAt)}</Text>
                {a.runnerId && (
                  <Text size="xs" c="dimmed">
                    {a.runnerId}
                  </Text>
                )}
              </Table.Td>
              <Table.Td>{a.outcome}</Table.Td>
              <Table.Td>
                <Text size="sm" c={a.error ? 'red' : 'dimmed'}>
                  {a.error ?? '—'}
                </Text>
              </Table.Td>
              <Table.Td>{formatInstant(a.nextRunAt)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </ScrollArea>
  );
}
