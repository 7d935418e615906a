import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '@jobline/libs';
import { ConsumerEnv } from '../consumer/src/config';
import { ProducerEnv } from '../producer/src/config';
import { ProblemDetails, problemStatus, problemType } from '../producer/src/http/problem-details';
import { RunnerEnv } from '../runner/src/config';
import { IMAGES } from './containers';
import { parseNginxConfig, type NginxDirective } from './nginx-config';

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
  entrypoint?: string[];
  environment?: Record<string, string | number>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition?: string; restart?: boolean }>;
  healthcheck?: { test?: string[] };
}

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

/** Compose service, the workspace whose build it runs, and that service's settings. */
const JOBLINE_SERVICES = [
  ['producer-1', 'producer', ProducerEnv],
  ['producer-2', 'producer', ProducerEnv],
  ['consumer', 'consumer', ConsumerEnv],
  ['runner', 'runner', RunnerEnv],
] as const;
const PRODUCERS = JOBLINE_SERVICES.filter(([, workspace]) => workspace === 'producer').map(([name]) => name);
/** Read by the AWS SDK's default credential chain (the S3 blob store), not by the services' own settings. */
const AWS_SDK_VARIABLES = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'];

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
    expect(service('minio').image).toBe(IMAGES.minio);
    expect(service('minio-init').image).toBe(IMAGES.minio);
    expect(IMAGES.minio).toMatch(/^quay\.io\/minio\/minio:RELEASE\.\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z$/);
  });

  it('has exactly the infrastructure, the gateway, two producer replicas, the persister and the runner', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'consumer',
      'kafka',
      'minio',
      'minio-init',
      'mongo',
      'nginx',
      'producer-1',
      'producer-2',
      'redis',
      'runner',
    ]);
  });

  describe.each(JOBLINE_SERVICES)('%s', (name, workspace, schema) => {
    it('names only variables the service reads, with values it accepts', () => {
      const env = environment(name);
      const known = [...Object.keys(schema.shape), ...AWS_SDK_VARIABLES];

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

    it('keeps blobs in the MinIO bucket that minio-init creates, signing in as MinIO’s root user', () => {
      const env = environment(name);
      const config = schema.parse(env);
      const minio = environment('minio');
      const init = service('minio-init');
      const mcHost = new URL(environment('minio-init').MC_HOST_minio ?? '');

      expect(config).toMatchObject({ BLOB_STORE: 's3', BLOB_S3_ENDPOINT: 'http://minio:9000' });
      expect(init.entrypoint).toEqual(['mc', 'mb', '--ignore-existing', `minio/${config.BLOB_S3_BUCKET}`]);
      expect(`${mcHost.protocol}//${mcHost.host}`).toBe(config.BLOB_S3_ENDPOINT);
      expect([env.AWS_ACCESS_KEY_ID, env.AWS_SECRET_ACCESS_KEY]).toEqual([
        minio.MINIO_ROOT_USER,
        minio.MINIO_ROOT_PASSWORD,
      ]);
      expect([mcHost.username, mcHost.password]).toEqual([minio.MINIO_ROOT_USER, minio.MINIO_ROOT_PASSWORD]);
      expect(service(name).depends_on?.['minio-init']?.condition).toBe('service_completed_successfully');
      expect(init.depends_on?.minio?.condition).toBe('service_healthy');
      expect(service('minio').healthcheck?.test?.length).toBeGreaterThan(0);
      expect(service('minio').volumes).toEqual(['minio-data:/data']);
    });

    it('starts the entry point the build produces, from the image the Dockerfile builds', () => {
      const { command, build } = service(name);
      const manifest = JSON.parse(readFileSync(join(ROOT, workspace, 'package.json'), 'utf8')) as { main?: string };

      expect(build).toBe('.');
      expect(command).toEqual(['node', `${workspace}/${manifest.main}`]);
      expect(manifest.main).toBe('dist/main.js');
      expect(existsSync(join(ROOT, workspace, 'src', 'main.ts'))).toBe(true);
      expect(dockerfile).toContain(`COPY --from=build --chown=node:node /app/${workspace}/dist ${workspace}/dist`);
    });

    it('publishes its ops port (metrics, health, readiness) on the same host port', () => {
      const { METRICS_PORT } = schema.parse(environment(name));

      expect(METRICS_PORT).toBeGreaterThan(0);
      expect(service(name).ports).toContain(`${METRICS_PORT}:${METRICS_PORT}`);
      if (workspace !== 'producer') {
        expect(service(name).healthcheck?.test?.join(' ')).toContain(`http://127.0.0.1:${METRICS_PORT}/health`);
      }
    });
  });

  it('runs each producer on all interfaces of its container, health-checked on the port it listens on', () => {
    for (const name of PRODUCERS) {
      const env = ProducerEnv.parse(environment(name));

      expect(env.HOST).toBe('0.0.0.0');
      expect(service(name).healthcheck?.test?.join(' ')).toContain(`http://127.0.0.1:${env.PORT}/health`);
    }
  });

  it('publishes no host port twice', () => {
    const hostPorts = Object.values(compose.services).flatMap((s) => (s.ports ?? []).map((p) => p.split(':')[0]));

    expect(hostPorts.length).toBeGreaterThan(0);
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
  });
});

describe('the nginx gateway (docker/nginx.conf)', () => {
  const gateway = service('nginx');
  const config = parseNginxConfig(readFileSync(join(ROOT, 'docker', 'nginx.conf'), 'utf8'));
  const http = only(config, 'http').block!;
  const server = only(http, 'server').block!;
  const listenPort = Number(only(server, 'listen').args[0]);
  const locations = server.filter((d) => d.name === 'location' && d.block);
  const proxied = locations.filter((location) => has(location.block!, 'proxy_pass'));
  const upstreamName = (location: NginxDirective) =>
    only(location.block!, 'proxy_pass').args[0]!.replace('http://', '');

  /** The location nginx picks for a path, as far as jobline's config needs: the first matching regex, else `/`. */
  const locationFor = (path: string) =>
    locations.find((l) => l.args[0] === '~' && new RegExp(l.args[1]!).test(path)) ??
    locations.find((l) => l.args.length === 1 && l.args[0] === '/');
  const setHeaders = (location: NginxDirective) =>
    Object.fromEntries(
      location.block!.filter((d) => d.name === 'proxy_set_header').map((d) => [d.args[0]!.toLowerCase(), d.args[1]]),
    );

  it('runs the official nginx image, pinned, with the config from the repository', () => {
    expect(gateway.image).toMatch(/^nginx:\d+\.\d+(\.\d+)?-alpine$/);
    expect(gateway.volumes).toContain('./docker/nginx.conf:/etc/nginx/nginx.conf:ro');
  });

  it('hands requests round-robin to exactly the producer replicas, on the port they listen on', () => {
    const upstreams = http.filter((d) => d.name === 'upstream');
    expect(upstreams).toHaveLength(1);
    const upstream = upstreams[0]!;
    const servers = upstream.block!.filter((d) => d.name === 'server').map((d) => d.args[0]);
    const expected = PRODUCERS.map((name) => `${name}:${ProducerEnv.parse(environment(name)).PORT}`);

    expect(PRODUCERS.length).toBeGreaterThanOrEqual(2);
    expect(servers.sort()).toEqual(expected.sort());
    // No balancing directive: nginx's default, round-robin.
    for (const method of ['least_conn', 'ip_hash', 'hash', 'random']) expect(has(upstream.block!, method)).toBe(false);
    expect(proxied.length).toBeGreaterThan(0);
    for (const location of proxied) expect(upstreamName(location)).toBe(upstream.args[0]);
  });

  it('starts once the producers report healthy, and again when they are recreated', () => {
    for (const name of PRODUCERS) {
      expect(gateway.depends_on?.[name]).toEqual({ condition: 'service_healthy', restart: true });
      expect(service(name).healthcheck?.test?.length).toBeGreaterThan(0);
    }
  });

  it('publishes the API on the port the README sends clients to, and no producer publishes it past the gateway', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

    expect(gateway.ports).toEqual([`3000:${listenPort}`]);
    expect(readme).toContain('curl -si -X POST localhost:3000/v1/jobs');
    for (const name of PRODUCERS) {
      const { PORT } = ProducerEnv.parse(environment(name));
      expect((service(name).ports ?? []).filter((p) => p.endsWith(`:${PORT}`))).toEqual([]);
    }
  });

  it('is health-checked through to a producer', () => {
    expect(gateway.healthcheck?.test?.join(' ')).toContain(`http://127.0.0.1:${listenPort}/health`);
  });

  it('passes X-Request-Id and X-Forwarded-For on every proxied location', () => {
    // A location with any proxy_set_header of its own inherits none from above, so each must name them all.
    for (const location of proxied) {
      expect(setHeaders(location)).toMatchObject({
        'x-request-id': expect.stringMatching(/^\$/),
        'x-forwarded-for': '$proxy_add_x_forwarded_for',
      });
    }
  });

  it.each(['/v1/jobs/0b7a3c2e-4a55-4f5e-9c1d-2f1e8f9a6b10/stream', '/v1/stream'])(
    'streams Server-Sent Events at %s unbuffered, for up to an hour',
    (path) => {
      const location = locationFor(path)!;
      const directives = Object.fromEntries(location.block!.map((d) => [d.name, d.args.join(' ')]));

      expect(directives).toMatchObject({
        proxy_buffering: 'off',
        proxy_cache: 'off',
        proxy_read_timeout: '1h',
        proxy_http_version: '1.1',
      });
      expect(setHeaders(location).connection).toBe('');
    },
  );

  it('buffers other routes as usual', () => {
    for (const path of ['/v1/jobs', '/v1/jobs/0b7a3c2e-4a55-4f5e-9c1d-2f1e8f9a6b10', '/v1/jobs/x/events', '/health']) {
      expect(has(locationFor(path)!.block!, 'proxy_buffering')).toBe(false);
    }
  });

  it('lets bodies up to the producer’s MAX_BODY_BYTES through, and refuses larger ones with the same problem', () => {
    const { MAX_BODY_BYTES } = ProducerEnv.parse(environment('producer-1'));
    const limit = nginxSize(only(http, 'client_max_body_size').args[0]!);
    const handler = only(server, 'error_page').args;
    const named = locations.find((l) => l.args[0] === handler[1])!;
    const [status, body] = only(named.block!, 'return').args;
    const problem = ProblemDetails.parse(JSON.parse(body!.replace('$jobline_problem_instance', '/v1/jobs')));

    expect(limit).toBeGreaterThanOrEqual(MAX_BODY_BYTES);
    expect(limit).toBeLessThanOrEqual(4 * MAX_BODY_BYTES);
    expect(handler[0]).toBe('413');
    expect(status).toBe('413');
    expect(only(named.block!, 'default_type').args).toEqual(['application/problem+json']);
    expect(problem).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      type: problemType('PAYLOAD_TOO_LARGE'),
      status: problemStatus('PAYLOAD_TOO_LARGE'),
    });
  });
});

function only(directives: NginxDirective[], name: string): NginxDirective {
  const found = directives.filter((d) => d.name === name);
  if (found.length !== 1) throw new Error(`expected one ${name}, found ${found.length}`);
  return found[0]!;
}

function has(directives: NginxDirective[], name: string): boolean {
  return directives.some((d) => d.name === name);
}

/** nginx sizes: bytes, or k/m/g suffixes (case-insensitive). */
function nginxSize(value: string): number {
  const match = /^(\d+)([kmg]?)$/i.exec(value);
  if (!match) throw new Error(`not an nginx size: ${value}`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(match[1]) * unit;
}

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
