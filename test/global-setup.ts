import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startContainers } from './containers';

/**
 * Chooses the infrastructure the integration and end-to-end tests run against, in this order:
 * 1. services named by KAFKA_BROKERS, MONGODB_URI and REDIS_URL (and S3_ENDPOINT, else the local stack's S3 server);
 * 2. containers, when a Docker engine really answers (testcontainers);
 * 3. the local stack on loopback, started (and installed on first use) by scripts/stack.sh.
 * The choice is passed to the test workers through the environment.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.KAFKA_BROKERS && process.env.MONGODB_URI && process.env.REDIS_URL) {
    process.env.JOBLINE_TEST_INFRA ??= 'external';
    if (!process.env.S3_ENDPOINT) startLocalStack(['s3'], { keepSet: true });
    return;
  }
  if (await dockerEngineAnswers()) {
    const started = await startContainers();
    Object.assign(process.env, started.env, { JOBLINE_TEST_INFRA: 'containers' });
    writeFileSync(join(__dirname, '..', '.stack-test-containers.json'), JSON.stringify(started.ids));
    return;
  }
  startLocalStack([], { keepSet: false });
  process.env.JOBLINE_TEST_INFRA = 'local';
}

/** Starts the local stack's services (all when none are named) and takes their addresses into the environment. */
function startLocalStack(services: string[], options: { keepSet: boolean }): void {
  const root = join(__dirname, '..');
  const script = join(root, 'scripts/stack.sh');
  execFileSync('bash', [script, 'start', ...services], { stdio: ['ignore', 'inherit', 'inherit'] });
  const env = execFileSync('bash', [script, 'env'], { encoding: 'utf8' });
  for (const line of env.split('\n')) {
    const [key, ...value] = line.split('=');
    if (!key || value.length === 0 || (options.keepSet && process.env[key.trim()])) continue;
    process.env[key.trim()] = value.join('=').trim();
  }
}

async function dockerEngineAnswers(): Promise<boolean> {
  if (process.env.JOBLINE_TEST_NO_DOCKER === '1') return false;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    const client = await getContainerRuntimeClient();
    return Boolean(client.info.containerRuntime.serverVersion);
  } catch {
    return false;
  }
}
