import { Grid, Paper, Stack, Tabs, Title } from '@mantine/core';
import { useMemo, useState } from 'react';
import { JobTable } from '../jobs/job-table';
import { Pager } from '../jobs/pager';
import { useJobList } from '../jobs/use-job-list';
import { Empty, ErrorState, Loading } from '../ui/states';
import { ExportPanel, ExportStatus } from './export-panel';
import { ImportPanel, ImportReport } from './import-panel';

function RecentJobs({ type, empty }: { type: string; empty: string }) {
  const filters = useMemo(() => ({ statuses: [], type, createdAfter: null }), [type]);
  const list = useJobList(filters, 10);
  if (list.error) return <ErrorState error={list.error} retry={list.reload} />;
  if (list.loading) return <Loading />;
  if (list.jobs.length === 0) return <Empty>{empty}</Empty>;
  return (
    <Stack gap="xs">
      <JobTable jobs={list.jobs} />
      <Pager list={list} />
    </Stack>
  );
}

export function DataPage() {
  const [importId, setImportId] = useState<string | null>(null);
  const [exportId, setExportId] = useState<string | null>(null);
  return (
    <Stack>
      <Title order={1} size="h2">
        Imports and exports
      </Title>
      <Grid>
        <Grid.Col span={{ base: 12, md: 6 }}>
          <Stack>
            <ImportPanel onImported={setImportId} />
            {importId && <ImportReport key={importId} importId={importId} />}
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 6 }}>
          <Stack>
            <ExportPanel onExported={setExportId} />
            {exportId && <ExportStatus key={exportId} exportId={exportId} />}
          </Stack>
        </Grid.Col>
      </Grid>
      <Paper withBorder p="md">
        <Tabs defaultValue="data.import">
          <Tabs.List>
            <Tabs.Tab value="data.import">Recent imports</Tabs.Tab>
            <Tabs.Tab value="data.export">Recent exports</Tabs.Tab>
          </Tabs.List>
          <Tabs.Panel value="data.import" pt="sm">
            <RecentJobs type="data.import" empty="No import yet." />
          </Tabs.Panel>
          <Tabs.Panel value="data.export" pt="sm">
            <RecentJobs type="data.export" empty="No export yet." />
          </Tabs.Panel>
        </Tabs>
      </Paper>
    </Stack>
  );
}
