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
});
