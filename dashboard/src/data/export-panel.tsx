import { Alert, Anchor, Button, Group, Paper, Select, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { IconDownload, IconFileExport } from '../ui/icons';
import { useCallback, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { dataOf, problemAnswer, type Answer } from '../api/api-client';
import { useJobStream } from '../api/live-jobs';
import { useSession } from '../auth/session';
import { AnswerAlert } from '../ui/answer-alert';
import { ErrorState, Loading } from '../ui/states';
import { StatusBadge } from '../ui/status-badge';
import { formatInstant } from '../ui/time';
import { useQuery } from '../ui/use-query';
import { ProgressCell } from '../jobs/job-table';

const RESOURCES = ['users', 'articles', 'comments'] as const;
const FORMATS = ['ndjson', 'json', 'csv'] as const;

/** An export's status, live, and its signed download link once it is done. */
export function ExportStatus({ exportId }: { exportId: string }) {
  const { api } = useSession();
  const view = useQuery(`export:${exportId}`, async (signal) =>
    dataOf(await api.GET('/v1/exports/{id}', { params: { path: { id: exportId } }, signal })),
  );
  const { reload } = view;
  useJobStream(
    exportId,
    useCallback(() => reload(), [reload]),
  );
  if (view.error) return <ErrorState error={view.error} retry={view.reload} />;
  if (!view.data) return <Loading label="Loading the export" />;
  const job = view.data;
  return (
    <Paper withBorder p="md" data-testid="export-status">
      <Group justify="space-between">
        <Text fw={600}>
          Export <Link to={`/jobs/${job.id}`}>{job.id.slice(-12)}</Link>
        </Text>
        <Group gap="xs">
          <ProgressCell job={job} />
          <StatusBadge status={job.status} />
        </Group>
      </Group>
      {job.error && (
        <Alert color="red" title={job.error.code} mt="sm">
          {job.error.message}
        </Alert>
      )}
      {job.downloadUrl && (
        <Group mt="sm" gap="xs">
          <Button
            component="a"
            href={job.downloadUrl}
            leftSection={<IconDownload size={16} />}
            variant="light"
            data-testid="export-download"
          >
            Download
          </Button>
          <Text size="xs" c="dimmed">
            link valid until {formatInstant(job.downloadExpiresAt)}
          </Text>
        </Group>
      )}
    </Paper>
  );
}

export function ExportPanel({ onExported }: { onExported(id: string): void }) {
  const { api } = useSession();
  const [resource, setResource] = useState<(typeof RESOURCES)[number]>('users');
  const [format, setFormat] = useState<(typeof FORMATS)[number]>('ndjson');
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [sending, setSending] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setSending(true);
    setAnswer(null);
    try {
      const { data, error, response } = await api.POST('/v1/exports', { body: { resource, format } as never });
      if (data) {
        setAnswer({ ok: true, status: response.status, message: `export ${data.id} is ${data.status}` });
        onExported(data.id);
      } else setAnswer(problemAnswer(response.status, error));
    } catch (err) {
      setAnswer(problemAnswer(0, err));
    } finally {
      setSending(false);
    }
  }

  return (
    <Paper withBorder p="md" component="form" onSubmit={submit} aria-label="Export records">
      <Stack>
        <Title order={2} size="h4">
          Export records
        </Title>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <Select
            label="Records"
            data={[...RESOURCES]}
            value={resource}
            onChange={(v) => v && setResource(v as (typeof RESOURCES)[number])}
            allowDeselect={false}
          />
          <Select
            label="Format"
            data={[...FORMATS]}
            value={format}
            onChange={(v) => v && setFormat(v as (typeof FORMATS)[number])}
            allowDeselect={false}
          />
        </SimpleGrid>
        <AnswerAlert answer={answer} onClose={() => setAnswer(null)} />
        <Group justify="space-between">
          <Anchor size="sm" href="/docs#/exports" target="_blank">
            Filters, fields and books: see the API
          </Anchor>
          <Button type="submit" leftSection={<IconFileExport size={16} />} loading={sending}>
            Create export
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}
