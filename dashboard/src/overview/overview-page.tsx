import { AreaChart, BarChart } from '@mantine/charts';
import { Anchor, Badge, Group, Paper, ScrollArea, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { Link } from 'react-router';
import { JOB_STATUSES, type JobStatus } from '../api/api-client';
import { pauseHolding, usePauses } from '../pauses/pauses-context';
import { Empty, ErrorState, Loading } from '../ui/states';
import { STATUS_COLORS } from '../ui/status-badge';
import { useJobStats, type JobStats } from './use-job-stats';

const timeOfDay = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

function StatCard({ label, value, color, to }: { label: string; value: number; color: string; to: string }) {
  return (
    <Paper withBorder p="md" data-testid={`stat-${label.replace(/\s+/g, '-')}`}>
      <Anchor component={Link} to={to} underline="never" c="inherit">
        <Text size="xs" tt="uppercase" fw={700} c="dimmed">
          {label}
        </Text>
        <Text fz={28} fw={700} c={color} data-value={value}>
          {value}
        </Text>
      </Anchor>
    </Paper>
  );
}

/**
 * Counts per type and status: every job now pending, scheduled, processing or failed (a dead letter waits until it
 * is redriven), and the jobs that completed or were cancelled in the window.
 */
function byType(stats: JobStats) {
  const rows = new Map<string, Record<JobStatus, number>>();
  const add = ({ type, status, count }: JobStats['current'][number]) => {
    const row = rows.get(type) ?? (Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>);
    row[status] += count;
    rows.set(type, row);
  };
  stats.current.forEach(add);
  stats.finished.filter((f) => f.status !== 'failed').forEach(add);
  return [...rows].sort(([a], [b]) => a.localeCompare(b));
}

/** Beside a type whose jobs are held: they wait, however many are pending. */
function PausedMark({ type }: { type: string }) {
  const { pauses } = usePauses();
  const held = pauses && pauseHolding(pauses, type);
  if (!held) return null;
  return (
    <Badge size="xs" color="orange" variant="light" ml={6} title={held.reason ?? undefined} data-testid="type-paused">
      paused
    </Badge>
  );
}

export function OverviewPage() {
  const stats = useJobStats();
  if (stats.error) return <ErrorState error={stats.error} retry={stats.reload} />;
  if (stats.loading || !stats.data) return <Loading label="Loading figures" />;
  const data = stats.data;
  const total = (list: JobStats['current'], status: JobStatus) =>
    list.filter((c) => c.status === status).reduce((sum, c) => sum + c.count, 0);
  const completed = total(data.finished, 'completed');
  const failed = total(data.finished, 'failed');
  const chart = data.throughput.map((b) => ({
    time: timeOfDay.format(new Date(b.start)),
    completed: b.completed,
    failed: b.failed,
    cancelled: b.cancelled,
  }));
  const rows = byType(data);

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1} size="h2">
          Overview
        </Title>
        <Text size="sm" c="dimmed">
          tenant {data.tenantId} · last hour
        </Text>
      </Group>
      <SimpleGrid cols={{ base: 2, sm: 3, lg: 6 }}>
        <StatCard label="pending" value={total(data.current, 'pending')} color="gray" to="/jobs?status=pending" />
        <StatCard
          label="scheduled"
          value={total(data.current, 'scheduled')}
          color="indigo"
          to="/jobs?status=scheduled"
        />
        <StatCard
          label="processing"
          value={total(data.current, 'processing')}
          color="blue"
          to="/jobs?status=processing"
        />
        <StatCard label="completed in the hour" value={completed} color="teal" to="/jobs?status=completed&range=1h" />
        <StatCard label="failed in the hour" value={failed} color="red" to="/jobs?status=failed&range=1h" />
        <StatCard label="dead letters waiting" value={total(data.current, 'failed')} color="red" to="/dead-letters" />
      </SimpleGrid>
      <Paper withBorder p="md">
        <Title order={2} size="h4" mb="sm">
          Throughput and failures per minute
        </Title>
        <AreaChart
          h={240}
          data={chart}
          dataKey="time"
          series={[
            { name: 'completed', color: 'teal.6' },
            { name: 'failed', color: 'red.6' },
            { name: 'cancelled', color: 'orange.5' },
          ]}
          curveType="monotone"
          withDots={false}
          withLegend
          tickLine="y"
          xAxisProps={{ minTickGap: 24 }}
          data-testid="throughput-chart"
        />
        <Text size="xs" c="dimmed" mt="xs">
          Failure rate over the hour: {completed + failed > 0 ? Math.round((failed / (completed + failed)) * 100) : 0}%
          of {completed + failed} finished jobs.
        </Text>
      </Paper>
      <Paper withBorder p="md" data-testid="runners">
        <Title order={2} size="h4" mb="sm">
          Runners at work
        </Title>
        {data.runners.length === 0 ? (
          <Text c="dimmed" size="sm">
            No runner is running a job of this tenant now.
          </Text>
        ) : (
          <Table>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Runner</Table.Th>
                <Table.Th>Jobs of this tenant running now</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.runners.map((r) => (
                <Table.Tr key={r.runnerId} data-runner-id={r.runnerId}>
                  <Table.Td ff="monospace">{r.runnerId}</Table.Td>
                  <Table.Td>{r.processing}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Paper>
      <Paper withBorder p="md">
        <Title order={2} size="h4" mb="sm">
          Jobs by type and status
        </Title>
        {rows.length === 0 ? (
          <Empty>No jobs in the last hour. Create one under “New job”.</Empty>
        ) : (
          <SimpleGrid cols={{ base: 1, xl: 2 }}>
            <ScrollArea type="auto">
              <Table data-testid="jobs-by-type" miw={480}>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Type</Table.Th>
                    {JOB_STATUSES.map((s) => (
                      <Table.Th key={s}>{s}</Table.Th>
                    ))}
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {rows.map(([type, counts]) => (
                    <Table.Tr key={type} data-type={type}>
                      <Table.Td>
                        <Anchor component={Link} to={`/jobs?type=${encodeURIComponent(type)}`}>
                          {type}
                        </Anchor>
                        <PausedMark type={type} />
                      </Table.Td>
                      {JOB_STATUSES.map((s) => (
                        <Table.Td key={s} data-status={s}>
                          {counts[s] || ''}
                        </Table.Td>
                      ))}
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </ScrollArea>
            <BarChart
              h={Math.max(160, rows.length * 36)}
              data={rows.map(([type, counts]) => ({ type, ...counts }))}
              dataKey="type"
              type="stacked"
              orientation="vertical"
              yAxisProps={{ width: 90 }}
              series={JOB_STATUSES.map((s) => ({ name: s, color: `${STATUS_COLORS[s]}.6` }))}
            />
          </SimpleGrid>
        )}
        <Text size="xs" c="dimmed" mt="xs">
          Pending, scheduled, processing and failed: every such job now. Completed and cancelled: those that finished in
          the last hour.
        </Text>
      </Paper>
    </Stack>
  );
}
