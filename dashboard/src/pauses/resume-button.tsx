import { Button, type ButtonProps } from '@mantine/core';
import { useState } from 'react';
import type { Answer } from '../api/api-client';
import { useSession } from '../auth/session';
import { IconPlayerPlay } from '../ui/icons';
import { changePause, scopeLabel, type PauseScope } from './pause-commands';
import { usePauses } from './pauses-context';

/** Resumes a scope at once (resuming needs no second thought: held jobs start in their order). */
export function ResumeButton({
  scope,
  onAnswer,
  children,
  ...props
}: ButtonProps & { scope: PauseScope; onAnswer(answer: Answer): void; children?: string }) {
  const { api, tenantId } = useSession();
  const { apply } = usePauses();
  const [sending, setSending] = useState(false);

  async function resume() {
    setSending(true);
    const { answer, view } = await changePause(api, 'resume', scope);
    setSending(false);
    if (view) apply(view);
    onAnswer(answer);
  }

  const label = `Resume ${scopeLabel(scope, tenantId)}`;
  return (
    <Button
      color="teal"
      variant="light"
      leftSection={<IconPlayerPlay size={14} />}
      {...props}
      loading={sending}
      onClick={() => void resume()}
      aria-label={label}
    >
      {children ?? 'Resume'}
    </Button>
  );
}
