import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '@jobline/libs';
import { ConsumerEnv } from '../consumer/src/config';
import { ProducerEnv } from '../producer/src/config';
import { RunnerEnv } from '../runner/src/config';
import { IMAGES } from './containers';

/**
 * No Docker engine runs where these tests run, so the compose file and the Dockerfile are checked against the code:
 * the images match the test containers, every variable handed to a service is one it reads (and valid for it), the
 * addresses point at the compose services, and the commands start files the build produces.
 */
const ROOT = join(__dirname, '..');

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string | number>;
  ports?: string[];
  depends_on?: Record<string, { condition?: string }>;
  healthcheck?: { test?: string[] };
}

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

const JOBLINE_SERVICES = {
  producer: ProducerEnv,
  consumer: ConsumerEnv,
  runner: RunnerEnv,
} as const;

const service = (name: string): ComposeService => {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service '${name}'`);
  return found;
};
const environment = (name: string): Record<string, string> =>
  Object.fromEntries(Object.entries(service(name).environment ?? {}).map(([k, v]) => [k, String(v)]));

describe('docker-compose.yml', () => {
  it('runs the same infrastructure images as the test containers', () => {
    expect(service('kafka').image).toBe(IMAGES.kafka);
    expect(service('mongo').image).toBe(IMAGES.mongo);
    expect(service('redis').image).toBe(IMAGES.redis);
  });

  it('has exactly the infrastructure and the three jobline services', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['consumer', 'kafka', 'mongo', 'producer', 'redis', 'runner']);
  });

  describe.each(Object.entries(JOBLINE_SERVICES))('%s', (name, schema) => {
    it('names only variables the service reads, with values it accepts', () => {
      const env = environment(name);
      const known = Object.keys(schema.shape);

      expect(Object.keys(env).filter((key) => !known.includes(key))).toEqual([]);
      expect(() => loadConfig(schema, env)).not.toThrow();
    });

    it('sets every variable the service requires (those without a default)', () => {
      const env = environment(name);
      const required = Object.entries(schema.shape)
        .filter(([, field]) => !field.safeParse(undefined).success)
        .map(([key]) => key);

      expect(required.filter((key) => !(env[key] ?? '').trim())).toEqual([]);
    });

    it('points at the compose services for Kafka, MongoDB and Redis', () => {
      const env = environment(name);
      const kafkaListeners = environment('kafka').KAFKA_ADVERTISED_LISTENERS ?? '';

      expect(env.KAFKA_BROKERS).toBe('kafka:9092');
      expect(kafkaListeners.split(',')).toContain(`PLAINTEXT://${env.KAFKA_BROKERS}`);
      expect(env.MONGODB_URI).toBe('mongodb://mongo:27017');
      expect(env.REDIS_URL).toBe('redis://redis:6379');
    });

    it('starts only once Kafka, MongoDB and Redis report healthy', () => {
      const dependsOn = service(name).depends_on ?? {};

      for (const infra of ['kafka', 'mongo', 'redis']) {
        expect(dependsOn[infra]?.condition).toBe('service_healthy');
        expect(service(infra).healthcheck?.test?.length).toBeGreaterThan(0);
      }
    });

    it('starts the entry point the build produces, from the image the Dockerfile builds', () => {
      const { command, build } = service(name);
      const manifest = JSON.parse(readFileSync(join(ROOT, name, 'package.json'), 'utf8')) as { main?: string };

      expect(build).toBe('.');
      expect(command).toEqual(['node', `${name}/${manifest.main}`]);
      expect(manifest.main).toBe('dist/main.js');
      expect(existsSync(join(ROOT, name, 'src', 'main.ts'))).toBe(true);
      expect(dockerfile).toContain(`COPY --from=build --chown=node:node /app/${name}/dist ${name}/dist`);
    });
  });

  it('publishes the producer on the port it listens on, on all interfaces of its container', () => {
    const env = ProducerEnv.parse(environment('producer'));

    expect(service('producer').ports).toContain(`${env.PORT}:${env.PORT}`);
    expect(env.HOST).toBe('0.0.0.0');
    expect(service('producer').healthcheck?.test?.join(' ')).toContain(`http://127.0.0.1:${env.PORT}/health`);
  });

  it.each([
    ['producer', ProducerEnv],
    ['consumer', ConsumerEnv],
    ['runner', RunnerEnv],
  ] as const)('publishes the ops port (metrics, health, readiness) of the %s', (name, schema) => {
    const { METRICS_PORT } = schema.parse(environment(name));

    expect(METRICS_PORT).toBeGreaterThan(0);
    expect(service(name).ports).toContain(`${METRICS_PORT}:${METRICS_PORT}`);
    if (name !== 'producer') {
      expect(service(name).healthcheck?.test?.join(' ')).toContain(`http://127.0.0.1:${METRICS_PORT}/health`);
    }
  });
});

describe('Dockerfile', () => {
  it('builds and runs on Node 24, as a non-root user', () => {
    const stages = dockerfile.split('\n').filter((line) => line.startsWith('FROM '));

    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages.every((line) => line.startsWith('FROM node:24-'))).toBe(true);
    expect(dockerfile).toMatch(/^USER node$/m);
  });

  it('installs from the lock file without install scripts', () => {
    expect(dockerfile).toContain('npm ci --ignore-scripts');
  });

  it('keeps local modules and build state out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');

    // Patterns without `**/` only match at the context root; a workspace's tsbuildinfo left in would make `tsc -b`
    // report every project up to date and emit no dist.
    expect(ignored).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', '**/*.tsbuildinfo']));
  });
});
