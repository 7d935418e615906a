import { Alert, Anchor, Group, Stack, Text } from '@mantine/core';
import { useState } from 'react';
import { Link, useLocation } from 'react-router';
import type { Answer } from '../api/api-client';
import { useSession } from '../auth/session';
import { AnswerAlert } from '../ui/answer-alert';
import { IconPlayerPause } from '../ui/icons';
import { formatInstant, fromNow } from '../ui/time';
import { usePauses } from './pauses-context';
import { ResumeButton } from './resume-button';

/**
 * What is paused, at the top of every view but the pauses view itself: a tenant paused as a whole holds all of its
 * work, and a paused job type its jobs, which would otherwise look stuck.
 */
export function PauseBanner() {
  const { tenantId } = useSession();
  const { pauses } = usePauses();
  const location = useLocation();
  const [refused, setRefused] = useState<Answer | null>(null);
  if (!pauses || location.pathname.startsWith('/pauses')) return null;
  const { tenant, types } = pauses;
  if (!tenant && types.length === 0) return null;

  return (
    <Stack gap="xs" mb="md">
      {tenant && (
        <Alert
          color="orange"
          variant="filled"
          icon={<IconPlayerPause size={20} />}
          title={`Tenant ${tenantId} is paused`}
          data-testid="pause-banner"
        >
          <Group justify="space-between" align="flex-end" gap="xs">
            <Text size="sm">
              No job starts: new and due jobs wait, running attempts finish. Paused{' '}
              <span title={formatInstant(tenant.pausedAt)}>{fromNow(tenant.pausedAt)}</span>
              {tenant.reason ? `: ${tenant.reason}` : ''}.
            </Text>
            <ResumeButton
              scope={{ kind: 'tenant' }}
              size="xs"
              variant="white"
              color="teal"
              onAnswer={(answer) => setRefused(answer.ok ? null : answer)}
            >
              Resume the tenant
            </ResumeButton>
          </Group>
        </Alert>
      )}
      {types.length > 0 && (
        <Alert color="orange" variant="light" py="xs" data-testid="paused-types-banner">
          <Text size="sm">
            <IconPlayerPause size={14} style={{ verticalAlign: -2 }} /> Paused job type{types.length > 1 ? 's' : ''}:{' '}
            {types.map((p, i) => (
              <span key={p.type} data-paused-type={p.type}>
                {i > 0 ? ', ' : ''}
                <b>{p.type}</b>
                {p.reason ? ` (${p.reason})` : ''}
              </span>
            ))}
            . Their jobs wait until resumed.{' '}
            <Anchor component={Link} to="/pauses" size="sm">
              Pauses
            </Anchor>
          </Text>
        </Alert>
      )}
      <AnswerAlert answer={refused} onClose={() => setRefused(null)} />
    </Stack>
  );
}
