import { Alert, List } from '@mantine/core';
import type { Answer } from '../api/api-client';

/** What the API answered to the last action, where the person pressed the button. */
export function AnswerAlert({ answer, onClose }: { answer: Answer | null; onClose?: () => void }) {
  if (!answer) return null;
  return (
    <Alert
      color={answer.ok ? 'teal' : 'red'}
      title={`${answer.ok ? 'Done' : 'Refused'}: ${answer.status}`}
      withCloseButton={Boolean(onClose)}
      onClose={onClose}
      role="status"
      data-testid="api-answer"
    >
      {answer.message}
      {answer.problem?.errors && answer.problem.errors.length > 0 && (
        <List size="sm" mt="xs">
          {answer.problem.errors.map((e) => (
            <List.Item key={`${e.field}:${e.code}`}>
              <code>{e.field}</code>: {e.message}
            </List.Item>
          ))}
        </List>
      )}
    </Alert>
  );
}
