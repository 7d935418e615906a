import { z } from 'zod';
import { JoblineError } from '../errors/jobline-error';
import { EMPTY_OUTBOUND_ALLOW_LIST, parseOutboundAllowList } from '../http/address-policy';
import { DEV_CALLBACK_SIGNING_KEY, DEV_DOWNLOAD_SIGNING_KEY, InfraEnv } from './infra-config';
import { envBool, envInt, envList, loadConfig, requiredWhen, type Env } from './load-config';

const DEFAULTS = {
  KAFKA_BROKERS: ['127.0.0.1:9092'],
  KAFKA_TOPIC_PREFIX: 'jobline.',
  KAFKA_EVENT_PARTITIONS: 6,
  KAFKA_REPLICATION_FACTOR: 1,
  MONGODB_URI: 'mongodb://127.0.0.1:27017',
  MONGODB_DB: 'jobline',
  REDIS_URL: 'redis://127.0.0.1:6379',
  REDIS_KEY_PREFIX: 'jobline:',
  JOB_CACHE_TTL_SECONDS: 86_400,
  KAFKA_SESSION_TIMEOUT_MS: 30_000,
  LOG_LEVEL: 'info',
  LOG_FORMAT: 'json',
  CALLBACK_SIGNING_KEY: DEV_CALLBACK_SIGNING_KEY,
  OUTBOUND_ALLOWLIST: EMPTY_OUTBOUND_ALLOW_LIST,
  BLOB_STORE: 'file',
  BLOB_DIR: '.data/blobs',
  BLOB_S3_REGION: 'us-east-1',
  DOWNLOAD_SIGNING_KEY: DEV_DOWNLOAD_SIGNING_KEY,
};

/** Variables without a default: unset unless given. */
const OPTIONAL = ['KAFKA_MIN_INSYNC_REPLICAS', 'BLOB_S3_BUCKET', 'BLOB_S3_ENDPOINT', 'BLOB_S3_FORCE_PATH_STYLE'];

/** The error loadConfig throws for `env`; fails the test if it does not throw one. */
function configError(env: Env): JoblineError {
  try {
    loadConfig(InfraEnv, env);
  } catch (err) {
    if (err instanceof JoblineError) return err;
    throw err;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig with the infrastructure settings', () => {
  it('uses the local-stack defaults when nothing is set', () => {
    const config = loadConfig(InfraEnv, {});

    expect(config).toEqual(DEFAULTS);
    expect(Object.keys(InfraEnv.shape).sort()).toEqual([...Object.keys(DEFAULTS), ...OPTIONAL].sort());
    for (const key of OPTIONAL) expect(config).not.toHaveProperty(key);
  });

  it('reads and converts every variable that is set', () => {
    const config = loadConfig(InfraEnv, {
      KAFKA_BROKERS: ' kafka-1:9092 , kafka-2:19092 ,',
      KAFKA_TOPIC_PREFIX: 'staging.',
      KAFKA_EVENT_PARTITIONS: '24',
      KAFKA_REPLICATION_FACTOR: '3',
      KAFKA_MIN_INSYNC_REPLICAS: '2',
      MONGODB_URI: 'mongodb+srv://cluster.example.net',
      MONGODB_DB: 'jobs',
      REDIS_URL: 'rediss://cache.example.net:6380',
      REDIS_KEY_PREFIX: 'jl:',
      JOB_CACHE_TTL_SECONDS: '60',
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'pretty',
      CALLBACK_SIGNING_KEY: 'a-production-signing-key',
      OUTBOUND_ALLOWLIST: '10.20.0.0/16, hooks.internal.example',
      BLOB_STORE: 's3',
      BLOB_DIR: '/var/lib/jobline/blobs',
      BLOB_S3_BUCKET: 'jobline-blobs',
      BLOB_S3_REGION: 'eu-west-1',
      BLOB_S3_ENDPOINT: 'https://s3.internal.example',
      BLOB_S3_FORCE_PATH_STYLE: 'false',
      DOWNLOAD_SIGNING_KEY: 'a-production-download-key',
    });

    expect(config).toEqual({
      KAFKA_BROKERS: ['kafka-1:9092', 'kafka-2:19092'],
      KAFKA_TOPIC_PREFIX: 'staging.',
      KAFKA_EVENT_PARTITIONS: 24,
      KAFKA_REPLICATION_FACTOR: 3,
      KAFKA_MIN_INSYNC_REPLICAS: 2,
      MONGODB_URI: 'mongodb+srv://cluster.example.net',
      MONGODB_DB: 'jobs',
      REDIS_URL: 'rediss://cache.example.net:6380',
      REDIS_KEY_PREFIX: 'jl:',
      JOB_CACHE_TTL_SECONDS: 60,
      KAFKA_SESSION_TIMEOUT_MS: 6000,
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'pretty',
      CALLBACK_SIGNING_KEY: 'a-production-signing-key',
      OUTBOUND_ALLOWLIST: parseOutboundAllowList('10.20.0.0/16,hooks.internal.example'),
      BLOB_STORE: 's3',
      BLOB_DIR: '/var/lib/jobline/blobs',
      BLOB_S3_BUCKET: 'jobline-blobs',
      BLOB_S3_REGION: 'eu-west-1',
      BLOB_S3_ENDPOINT: 'https://s3.internal.example',
      BLOB_S3_FORCE_PATH_STYLE: false,
      DOWNLOAD_SIGNING_KEY: 'a-production-download-key',
    });
  });

  it.each(['', '   '])('treats %j as unset and falls back to the default', (blank) => {
    const env = Object.fromEntries([...Object.keys(DEFAULTS), ...OPTIONAL].map((key) => [key, blank]));

    expect(loadConfig(InfraEnv, env)).toEqual(DEFAULTS);
  });

  it('ignores variables it does not declare', () => {
    expect(loadConfig(InfraEnv, { PATH: '/usr/bin', KAFKA_CLIENT_ID: 'x' })).toEqual(DEFAULTS);
  });

  it.each<[string, string]>([
    ['KAFKA_BROKERS', 'nonsense'],
    ['KAFKA_BROKERS', 'kafka:port'],
    ['KAFKA_BROKERS', ' , '],
    ['KAFKA_EVENT_PARTITIONS', '0'],
    ['KAFKA_EVENT_PARTITIONS', '1001'],
    ['KAFKA_EVENT_PARTITIONS', 'six'],
    ['KAFKA_REPLICATION_FACTOR', '1.5'],
    ['MONGODB_URI', 'postgres://db'],
    ['REDIS_URL', 'http://x'],
    ['JOB_CACHE_TTL_SECONDS', '-1'],
    ['KAFKA_SESSION_TIMEOUT_MS', '500'],
    ['LOG_LEVEL', 'verbose'],
    ['LOG_FORMAT', 'xml'],
    ['OUTBOUND_ALLOWLIST', '10.0.0.0/8,*.internal'],
    ['BLOB_STORE', 'gcs'],
    ['BLOB_S3_BUCKET', 'Jobline_Blobs'],
    ['BLOB_S3_ENDPOINT', 'minio:9000'],
    ['BLOB_S3_FORCE_PATH_STYLE', 'sometimes'],
    ['DOWNLOAD_SIGNING_KEY', 'too-short'],
  ])('rejects %s=%j with CONFIG_INVALID naming that variable only', (name, value) => {
    const error = configError({ [name]: value });

    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toMatch(new RegExp(`^  ${name}: `, 'm'));
    const named = [...Object.keys(DEFAULTS), ...OPTIONAL].filter((key) => error.message.split(/\W+/).includes(key));
    expect(named).toEqual([name]);
  });

  it('requires BLOB_S3_BUCKET when BLOB_STORE is s3, naming it', () => {
    const error = configError({ BLOB_STORE: 's3' });

    expect(error.message.split('\n')).toEqual([
      'invalid configuration:',
      '  BLOB_S3_BUCKET: required when BLOB_STORE is s3',
    ]);
    expect(loadConfig(InfraEnv, { BLOB_STORE: 's3', BLOB_S3_BUCKET: 'jobline' })).toMatchObject({
      BLOB_STORE: 's3',
      BLOB_S3_BUCKET: 'jobline',
    });
  });

  it('reports every invalid variable, one line each', () => {
    const error = configError({ KAFKA_BROKERS: 'nonsense', REDIS_URL: 'http://x', MONGODB_DB: 'fine' });

    expect(error.message.split('\n')).toEqual([
      'invalid configuration:',
      '  KAFKA_BROKERS: expected host:port',
      '  REDIS_URL: expected a redis:// URL',
    ]);
  });
});

describe('envInt, envList, envBool and requiredWhen', () => {
  const Schema = z.object({ SIZE: envInt(5, 2, 10), HOSTS: envList('a,b') });

  it('fall back to their defaults', () => {
    expect(loadConfig(Schema, {})).toEqual({ SIZE: 5, HOSTS: ['a', 'b'] });
  });

  it('parse set values', () => {
    expect(loadConfig(Schema, { SIZE: '10', HOSTS: 'x, y,,z ' })).toEqual({ SIZE: 10, HOSTS: ['x', 'y', 'z'] });
  });

  it.each(['1', '11', '2.5', 'ten'])('envInt rejects SIZE=%j outside its integer range', (value) => {
    expect(() => loadConfig(Schema, { SIZE: value })).toThrow(/^ {2}SIZE: /m);
  });

  it.each<[string, boolean]>([
    ['true', true],
    [' TRUE ', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['No', false],
  ])('envBool reads %j as %s', (value, expected) => {
    expect(loadConfig(z.object({ FLAG: envBool() }), { FLAG: value })).toEqual({ FLAG: expected });
  });

  it('envBool refuses anything else', () => {
    expect(() => loadConfig(z.object({ FLAG: envBool() }), { FLAG: 'on' })).toThrow(/FLAG: expected true or false/);
  });

  it('requiredWhen holds in schemas that extend the one declaring it, and not in those that leave it out', () => {
    const Base = z.object({
      MODE: z.enum(['a', 'b']).default('a'),
      TARGET: requiredWhen(z.string().optional(), { variable: 'MODE', equals: 'b' }),
    });
    const Extended = Base.extend({ OTHER: z.string().default('x') });

    expect(loadConfig(Extended, { MODE: 'a' })).toEqual({ MODE: 'a', OTHER: 'x' });
    expect(loadConfig(Extended, { MODE: 'b', TARGET: 't' })).toEqual({ MODE: 'b', TARGET: 't', OTHER: 'x' });
    expect(() => loadConfig(Extended, { MODE: 'b' })).toThrow(/^ {2}TARGET: required when MODE is b$/m);
    expect(loadConfig(Base.pick({ MODE: true }), { MODE: 'b' })).toEqual({ MODE: 'b' });
  });
});
