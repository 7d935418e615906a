import { loadRunnerConfig } from './config';

describe('runner configuration', () => {
  it('has no per-type limits by default', () => {
    expect(loadRunnerConfig({}).RUNNER_TYPE_CONCURRENCY).toEqual({});
  });

  it('reads per-type limits as type=n pairs', () => {
    expect(loadRunnerConfig({ RUNNER_TYPE_CONCURRENCY: 'sleep=2, noop=10' }).RUNNER_TYPE_CONCURRENCY).toEqual({
      sleep: 2,
      noop: 10,
    });
  });

  it.each([
    ['sleep', 'expected type=n pairs'],
    ['sleep=two', 'expected type=n pairs'],
    ['teleport=2', 'unknown job type teleport'],
    ['sleep=0', 'the limit of sleep must be at least 1'],
    ['sleep=1,sleep=2', 'sleep named twice'],
  ])('refuses %s, naming the variable', (value, message) => {
    expect(() => loadRunnerConfig({ RUNNER_TYPE_CONCURRENCY: value })).toThrow(
      expect.objectContaining({ message: expect.stringMatching(new RegExp(`RUNNER_TYPE_CONCURRENCY: .*${message}`)) }),
    );
  });

  it('caps no tenant by default, and reads per-tenant limits as tenant=n pairs', () => {
    const defaults = loadRunnerConfig({});
    expect(defaults.RUNNER_TENANT_CONCURRENCY).toBeUndefined();
    expect(defaults.RUNNER_TENANT_LIMITS).toEqual({});
    expect(defaults.RUNNER_TENANT_LIMITS_REFRESH_MS).toBe(10_000);

    const config = loadRunnerConfig({ RUNNER_TENANT_CONCURRENCY: '4', RUNNER_TENANT_LIMITS: 'acme=8,batch=1' });
    expect(config.RUNNER_TENANT_CONCURRENCY).toBe(4);
    expect(config.RUNNER_TENANT_LIMITS).toEqual({ acme: 8, batch: 1 });
  });

  it.each([
    ['RUNNER_TENANT_LIMITS', 'acme', 'expected tenant=n pairs'],
    ['RUNNER_TENANT_LIMITS', 'acme=0', 'the limit of acme must be at least 1'],
    ['RUNNER_TENANT_LIMITS', 'acme=1,acme=2', 'acme named twice'],
    ['RUNNER_TENANT_CONCURRENCY', '0', ''],
    ['RUNNER_TENANT_LIMITS_REFRESH_MS', '10', ''],
    ['RUNNER_MAX_PENDING', '10', ''],
  ])('refuses %s=%s, naming the variable', (variable, value, message) => {
    expect(() => loadRunnerConfig({ [variable]: value })).toThrow(
      expect.objectContaining({ message: expect.stringMatching(new RegExp(`${variable}: .*${message}`)) }),
    );
  });
});
