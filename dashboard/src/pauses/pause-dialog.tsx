import { Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import type { Answer } from '../api/api-client';
import { useSession } from '../auth/session';
import { AnswerAlert } from '../ui/answer-alert';
import { ConfirmDialog } from '../ui/confirm-dialog';
import { changePause, scopeLabel, type PauseScope } from './pause-commands';
import { usePauses } from './pauses-context';

/**
 * Asks for the reason of a pause (optional, shown with it), and for the tenant as a whole asks for a confirmation in
 * the same step: it holds every job type. A refusal is shown in the dialog, which stays open.
 */
export function PauseDialog({
  scope,
  onClose,
  onPaused,
}: {
  /** What to pause; null while the dialog is closed. */
  scope: PauseScope | null;
  onClose(): void;
  onPaused(answer: Answer): void;
}) {
  const { api, tenantId } = useSession();
  const { apply } = usePauses();
  const [reason, setReason] = useState('');
  const [sending, setSending] = useState(false);
  const [refused, setRefused] = useState<Answer | null>(null);

  function close() {
    setReason('');
    setRefused(null);
    onClose();
  }

  async function pause() {
    if (!scope) return;
    setSending(true);
    const { answer, view } = await changePause(api, 'pause', scope, reason);
    setSending(false);
    if (!view) {
      setRefused(answer);
      return;
    }
    apply(view);
    onPaused(answer);
    close();
  }

  const label = scope ? scopeLabel(scope, tenantId) : '';
  return (
    <ConfirmDialog
      opened={scope !== null}
      title={`Pause ${label}`}
      confirmLabel={scope?.kind === 'tenant' ? 'Pause every job type' : `Pause ${label}`}
      color="orange"
      loading={sending}
      onConfirm={() => void pause()}
      onClose={close}
    >
      {scope?.kind === 'tenant' ? (
        <Text size="sm">
          No job of tenant <b>{tenantId}</b> will start, whatever its type, until you resume it: new jobs are accepted
          and wait, pending; jobs that come due wait, scheduled; attempts running now finish. Other tenants run on.
        </Text>
      ) : (
        <Text size="sm">
          No job of type <b>{scope?.type}</b> will start until you resume it: new ones are accepted and wait, pending;
          those that come due wait, scheduled; attempts running now finish. Other types run on.
        </Text>
      )}
      <TextInput
        label="Reason"
        description="optional, shown with the pause: an incident, a ticket"
        placeholder="incident 42"
        maxLength={500}
        value={reason}
        onChange={(e) => setReason(e.currentTarget.value)}
        error={refused?.problem?.errors?.find((e) => e.field === 'reason')?.message}
        data-autofocus
      />
      <AnswerAlert answer={refused} />
    </ConfirmDialog>
  );
}
