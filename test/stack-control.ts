import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');

/**
 * Stops and starts the Kafka broker the tests run against, for failure tests. Works with the local stack and with the
 * containers of the test set-up; brokers named by KAFKA_BROKERS belong to someone else and are not touched.
 */
export async function setKafkaRunning(running: boolean): Promise<void> {
  switch (process.env.JOBLINE_TEST_INFRA) {
    case 'local':
      execFileSync('bash', [join(ROOT, 'scripts/stack.sh'), running ? 'start' : 'stop', 'kafka'], {
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      return;
    case 'containers': {
      const [kafkaId] = JSON.parse(readFileSync(join(ROOT, '.stack-test-containers.json'), 'utf8')) as string[];
      const { getContainerRuntimeClient } = await import('testcontainers');
      const client = await getContainerRuntimeClient();
      const container = client.container.getById(kafkaId!);
      if (running) await container.start();
      else await container.stop({ t: 10 });
      return;
    }
    default:
      throw new Error(
        'this failure test stops and starts Kafka, which it cannot do to brokers named by KAFKA_BROKERS; ' +
          'run it against the local stack (unset KAFKA_BROKERS, MONGODB_URI and REDIS_URL) or a Docker engine',
      );
  }
}

/**
 * Freezes the Kafka broker (SIGSTOP, or a paused container) and thaws it: requests sent to a frozen broker are neither
 * answered nor lost, and it handles them once thawed, as a broker does after a long pause.
 */
export async function setKafkaPaused(paused: boolean): Promise<void> {
  switch (process.env.JOBLINE_TEST_INFRA) {
    case 'local': {
      const stackDir = process.env.JOBLINE_STACK_DIR ?? join(ROOT, '.stack');
      const pid = Number(readFileSync(join(stackDir, 'run', 'kafka.pid'), 'utf8').trim());
      process.kill(pid, paused ? 'SIGSTOP' : 'SIGCONT');
      return;
    }
    case 'containers': {
      const [kafkaId] = JSON.parse(readFileSync(join(ROOT, '.stack-test-containers.json'), 'utf8')) as string[];
      const { getContainerRuntimeClient } = await import('testcontainers');
      const client = await getContainerRuntimeClient();
      const container = client.container.getById(kafkaId!);
      if (paused) await container.pause();
      else await container.unpause();
      return;
    }
    default:
      throw new Error(
        'this failure test pauses Kafka, which it cannot do to brokers named by KAFKA_BROKERS; ' +
          'run it against the local stack (unset KAFKA_BROKERS, MONGODB_URI and REDIS_URL) or a Docker engine',
      );
  }
}
