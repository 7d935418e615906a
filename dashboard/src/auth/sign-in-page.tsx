import { Alert, Anchor, Button, Center, Paper, PasswordInput, Stack, Text, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { createApiClient, isProblem } from '../api/api-client';
import { useSessionState } from './session';

/** Asks for an API token and checks it against the API before keeping it. */
export function SignInPage() {
  const { signIn, endedBecause } = useSessionState();
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [checking, setChecking] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const candidate = token.trim();
    if (!candidate) {
      setError('Paste an API token.');
      return;
    }
    setChecking(true);
    setError(null);
    try {
      const api = createApiClient(candidate, () => undefined);
      const { data, error: problem, response } = await api.GET('/v1/stats', { params: { query: {} } });
      if (data) signIn(candidate, data.tenantId);
      else if (response.status === 401) setError('That token was not accepted (401). Check it and try again.');
      else setError(isProblem(problem) ? `${problem.code}: ${problem.detail}` : `The API answered ${response.status}.`);
    } catch (err) {
      setError(`The API could not be reached: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      setChecking(false);
    }
  }

  return (
    <Center mih="100vh" p="md">
      <Paper withBorder shadow="sm" p="xl" radius="md" w="100%" maw={420} component="main">
        <form onSubmit={submit} aria-labelledby="sign-in-title">
          <Stack>
            <Title order={1} size="h2" id="sign-in-title">
              jobline
            </Title>
            <Text c="dimmed" size="sm">
              Sign in with an API token. The dashboard shows the jobs of the token’s tenant and keeps the token for this
              tab only.
            </Text>
            {endedBecause && !error && <Alert color="yellow">{endedBecause}</Alert>}
            <PasswordInput
              label="API token"
              placeholder="dev-token"
              value={token}
              onChange={(e) => setToken(e.currentTarget.value)}
              error={error}
              autoFocus
              autoComplete="off"
              data-autofocus
            />
            <Button type="submit" loading={checking}>
              Sign in
            </Button>
            <Text size="xs" c="dimmed">
              Tokens come from <code>API_TOKENS</code> or <code>npm run tokens -- create</code>; the API itself is
              described at <Anchor href="/docs">/docs</Anchor>.
            </Text>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
