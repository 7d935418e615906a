import { Badge, Button, Group, Paper, Stack, Table, Text, Title } from '@mantine/core';
import { Fragment, useState } from 'react';
import type { Answer } from '../api/api-client';
import { useJobTypes } from '../api/job-types';
import { useSession } from '../auth/session';
import { AnswerAlert } from '../ui/answer-alert';
import { IconPlayerPause } from '../ui/icons';
import { ErrorState, Loading } from '../ui/states';
import { formatInstant, fromNow } from '../ui/time';
import { PauseDialog } from './pause-dialog';
import type { PauseScope } from './pause-commands';
import { usePauses } from './pauses-context';
import { ResumeButton } from './resume-button';

/** A badge in a narrow table keeps its word whole; the type names give way, at their dots. */
const FULL_WIDTH = { minWidth: 'max-content' };

function Since({ pausedAt, pausedBy }: { pausedAt: string; pausedBy: string }) {
  return (
    <Text size="sm" c="dimmed">
      since <span title={formatInstant(pausedAt)}>{fromNow(pausedAt)}</span>, by <code>{pausedBy}</code>
    </Text>
  );
}

/** What is paused of the tenant, as a whole and by job type; pause (with a reason) and resume either. */
export function PausesPage() {
  const { tenantId } = useSession();
  const { pauses, error, reload } = usePauses();
  const { types } = useJobTypes();
  const [pausing, setPausing] = useState<PauseScope | null>(null);
  const [answer, setAnswer] = useState<Answer | null>(null);

  if (error && !pauses) return <ErrorState error={error} retry={reload} />;
  if (!pauses) return <Loading label="Reading what is paused" />;
  const { tenant } = pauses;
  // Every known type, and any paused type this dashboard does not know.
  const names = [...new Set([...types.map((t) => t.type), ...pauses.types.map((p) => p.type)])].sort();

  return (
    <Stack>
      <Title order={1} size="h2">
        Pauses
      </Title>
      <Text size="sm" c="dimmed" maw={760}>
        Paused work is held, not refused: new jobs are accepted and wait, pending; jobs that come due wait, scheduled;
        attempts already running finish. On resume the held jobs start in their order. A job type paused on its own
        stays paused when the tenant is resumed, and the other way round.
      </Text>
      <AnswerAlert answer={answer} onClose={() => setAnswer(null)} />
      <Paper withBorder p="md" component="section" aria-label="The tenant" data-testid="tenant-pause">
        <Group justify="space-between" align="flex-start">
          <Stack gap={4}>
            <Group gap="sm">
              <Title order={2} size="h4">
                Tenant {tenantId}
              </Title>
              <Badge color={tenant ? 'orange' : 'teal'} variant="light" data-paused={Boolean(tenant)}>
                {tenant ? 'paused' : 'running'}
              </Badge>
            </Group>
            {tenant ? (
              <>
                <Since pausedAt={tenant.pausedAt} pausedBy={tenant.pausedBy} />
                <Text size="sm">{tenant.reason ?? 'No reason given.'}</Text>
              </>
            ) : (
              <Text size="sm" c="dimmed">
                Every job type not paused on its own runs.
              </Text>
            )}
          </Stack>
          {tenant ? (
            <ResumeButton scope={{ kind: 'tenant' }} onAnswer={setAnswer}>
              Resume the tenant
            </ResumeButton>
          ) : (
            <Button
              color="orange"
              variant="light"
              leftSection={<IconPlayerPause size={16} />}
              onClick={() => setPausing({ kind: 'tenant' })}
            >
              Pause the tenant…
            </Button>
          )}
        </Group>
      </Paper>
      <Paper withBorder p="md" component="section" aria-label="Job types">
        <Title order={2} size="h4" mb="sm">
          Job types
        </Title>
        <Table verticalSpacing="xs" data-testid="type-pauses">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Type</Table.Th>
              <Table.Th>State</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {names.map((type) => {
              const own = pauses.types.find((p) => p.type === type);
              return (
                <Table.Tr key={type} data-type={type} data-paused={Boolean(own)}>
                  <Table.Td>
                    <Text size="sm" ff="monospace">
                      {/* A narrow screen breaks a long name after its dots. */}
                      {type.split('.').map((part, i) => (
                        <Fragment key={i}>
                          {i > 0 && (
                            <>
                              .<wbr />
                            </>
                          )}
                          {part}
                        </Fragment>
                      ))}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    {own ? (
                      <Stack gap={2} align="flex-start">
                        <Badge size="sm" style={FULL_WIDTH} color="orange" variant="light">
                          paused
                        </Badge>
                        {own.reason && <Text size="sm">{own.reason}</Text>}
                        <Since pausedAt={own.pausedAt} pausedBy={own.pausedBy} />
                      </Stack>
                    ) : tenant ? (
                      <Badge
                        size="sm"
                        style={FULL_WIDTH}
                        color="orange"
                        variant="outline"
                        title="held while the tenant is paused"
                      >
                        held
                      </Badge>
                    ) : (
                      <Badge size="sm" style={FULL_WIDTH} color="teal" variant="light">
                        running
                      </Badge>
                    )}
                  </Table.Td>
                  <Table.Td ta="right">
                    {own ? (
                      <ResumeButton scope={{ kind: 'type', type }} size="compact-sm" onAnswer={setAnswer} />
                    ) : (
                      <Button
                        size="compact-sm"
                        color="orange"
                        variant="light"
                        leftSection={<IconPlayerPause size={14} />}
                        onClick={() => setPausing({ kind: 'type', type })}
                        aria-label={`Pause job type ${type}`}
                      >
                        Pause
                      </Button>
                    )}
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      </Paper>
      <PauseDialog scope={pausing} onClose={() => setPausing(null)} onPaused={setAnswer} />
    </Stack>
  );
}
