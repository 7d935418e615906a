import { Button, Group, Modal, Stack } from '@mantine/core';
import type { FormEvent, ReactNode } from 'react';

/**
 * A dialog that asks before an action with wide effect (pausing a tenant, deleting a schedule). Its content can hold
 * fields (a reason, marked `data-autofocus` to take the focus); Enter in them confirms.
 */
export function ConfirmDialog({
  opened,
  title,
  confirmLabel,
  color = 'red',
  loading = false,
  onConfirm,
  onClose,
  children,
}: {
  opened: boolean;
  title: string;
  confirmLabel: string;
  color?: string;
  loading?: boolean;
  onConfirm(): void;
  onClose(): void;
  children: ReactNode;
}) {
  function submit(event: FormEvent) {
    event.preventDefault();
    onConfirm();
  }
  return (
    <Modal opened={opened} onClose={onClose} title={title} centered>
      <form onSubmit={submit}>
        <Stack>
          {children}
          <Group justify="flex-end" gap="xs">
            <Button variant="default" onClick={onClose}>
              Back
            </Button>
            <Button type="submit" color={color} loading={loading}>
              {confirmLabel}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
