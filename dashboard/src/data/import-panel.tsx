import {
  Alert,
  Badge,
  Button,
  FileInput,
  Group,
  Paper,
  Progress,
  ScrollArea,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Title,
} from '@mantine/core';
import { IconUpload } from '../ui/icons';
import { useCallback, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { dataOf, isProblem, problemAnswer, type Answer, type Schemas } from '../api/api-client';
import { useJobStream } from '../api/live-jobs';
import { useSession } from '../auth/session';
import { AnswerAlert } from '../ui/answer-alert';
import { ErrorState, Loading } from '../ui/states';
import { StatusBadge } from '../ui/status-badge';
import { useQuery } from '../ui/use-query';
import { uploadFile } from './upload';

type ImportView = Schemas['ImportView'];
const RESOURCES = ['users', 'articles', 'comments', 'mixed', 'books'];

function Figure({ label, value, color }: { label: string; value: string | number; color?: string }) {
  return (
    <Stack gap={0}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
        {label}
      </Text>
      <Text fw={700} size="lg" c={color} data-testid={`report-${label}`}>
        {value}
      </Text>
    </Stack>
  );
}

/** An import's report, read again on every change of its job. */
export function ImportReport({ importId }: { importId: string }) {
  const { api } = useSession();
  const view = useQuery(`import:${importId}`, async (signal) =>
    dataOf(await api.GET('/v1/imports/{id}', { params: { path: { id: importId } }, signal })),
  );
  const { reload } = view;
  useJobStream(
    importId,
    useCallback(() => reload(), [reload]),
  );

  if (view.error) return <ErrorState error={view.error} retry={view.reload} />;
  if (!view.data) return <Loading label="Loading the import" />;
  const job: ImportView = view.data;
  const report = job.report;
  return (
    <Paper withBorder p="md" data-testid="import-report">
      <Group justify="space-between" mb="sm">
        <Title order={3} size="h5">
          Import <Link to={`/jobs/${job.id}`}>{job.id.slice(-12)}</Link>
        </Title>
        <StatusBadge status={job.status} />
      </Group>
      {job.error && (
        <Alert color="red" title={job.error.code} mb="sm">
          {job.error.message}
        </Alert>
      )}
      {!report ? (
        <Text c="dimmed">
          {job.type === 'book.import'
            ? 'A book import has no record report.'
            : 'The report appears once the import starts.'}
        </Text>
      ) : (
        <Stack gap="sm">
          <SimpleGrid cols={{ base: 2, sm: 4 }}>
            <Figure label="processed" value={report.processed} />
            <Figure label="imported" value={report.imported} color="teal" />
            <Figure label="rejected" value={report.failed} color={report.failed > 0 ? 'red' : undefined} />
            <Figure label="error rate" value={`${(report.errorRate * 100).toFixed(1)}%`} />
          </SimpleGrid>
          {report.inputError && <Alert color="red">{report.inputError}</Alert>}
          {report.errors.length > 0 && (
            <ScrollArea type="auto" mah={360}>
              <Table striped miw={420} data-testid="rejected-records">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Record</Table.Th>
                    <Table.Th>Line</Table.Th>
                    <Table.Th>Code</Table.Th>
                    <Table.Th>Why</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {report.errors.map((e) => (
                    <Table.Tr key={e.recordIndex}>
                      <Table.Td>{e.recordIndex}</Table.Td>
                      <Table.Td>{e.line ?? '—'}</Table.Td>
                      <Table.Td>
                        <Badge color="red" variant="light">
                          {e.code}
                        </Badge>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{e.message}</Text>
                        {e.details
                          .filter((d) => !e.message.includes(d.message))
                          .map((d) => (
                            <Text size="xs" c="dimmed" key={`${d.field}:${d.code}`}>
                              {d.field}: {d.message}
                            </Text>
                          ))}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </ScrollArea>
          )}
        </Stack>
      )}
    </Paper>
  );
}

export function ImportPanel({ onImported }: { onImported(id: string): void }) {
  const { token } = useSession();
  const [resource, setResource] = useState<string | null>('users');
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [answer, setAnswer] = useState<Answer | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!file || !resource) return;
    setAnswer(null);
    setProgress(0);
    try {
      const { status, body } = await uploadFile({
        url: `/v1/imports?resource=${encodeURIComponent(resource)}`,
        token,
        field: 'file',
        file,
        onProgress: setProgress,
      });
      if (status === 202 && body && typeof body === 'object' && 'id' in body) {
        setAnswer({
          ok: true,
          status,
          message: `uploaded; import ${String(body.id)} is ${String((body as ImportView).status)}`,
        });
        onImported(String(body.id));
      } else {
        setAnswer(problemAnswer(status, isProblem(body) ? body : undefined));
      }
    } catch (err) {
      setAnswer(problemAnswer(0, err));
    } finally {
      setProgress(null);
    }
  }

  return (
    <Paper withBorder p="md" component="form" onSubmit={submit} aria-label="Import a file">
      <Stack>
        <Title order={2} size="h4">
          Import a file
        </Title>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <Select label="Into" data={RESOURCES} value={resource} onChange={setResource} allowDeselect={false} />
          <FileInput
            label="File"
            placeholder="NDJSON, JSON, CSV, Markdown or EPUB"
            value={file}
            onChange={setFile}
            clearable
            data-testid="import-file"
          />
        </SimpleGrid>
        {progress !== null && <Progress value={progress * 100} animated aria-label="upload progress" />}
        <AnswerAlert answer={answer} onClose={() => setAnswer(null)} />
        <Group justify="flex-end">
          <Button type="submit" leftSection={<IconUpload size={16} />} disabled={!file} loading={progress !== null}>
            Upload
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}
