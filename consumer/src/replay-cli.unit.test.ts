import { EXIT_REFUSED, EXIT_SAME, runReplayCli } from './replay-cli';

/** Refusals come before any connection: the brokers named here are never dialled. */
const env = { KAFKA_BROKERS: '127.0.0.1:1', MONGODB_URI: 'mongodb://127.0.0.1:1', MONGODB_DB: 'jobline' };

async function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runReplayCli(argv, env, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text), isTTY: false },
  });
  return { code, stdout, stderr };
}

describe('replay CLI arguments', () => {
  it.each([['--help'], ['-h']])('%s prints the usage of both tasks on stdout and exits 0', async (flag) => {
    const { code, stdout, stderr } = await run(flag);
    expect(code).toBe(EXIT_SAME);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^usage:\n {2}npm run replay -- --from-beginning --into <database> \[--force\]\n/);
    expect(stdout).toContain('npm run replay -- --export --since <time> [--until <time>] [--out <file>]');
    expect(stdout).toContain('docs/events/');
    expect(stdout).toMatch(/jobs from job-events,\s+schedules from schedule-events, pauses from pause-events/);
  });

  it.each([
    [[], /--from-beginning is required/],
    [['--from-beginning'], /--into <database> is required/],
    [['--from-beginning', '--into', 'a/b'], /not a database name/],
    [['--from-beginning', '--into', 'jobline'], /is the live database/],
    [['--from-beginning', '--into', 'x', '--since', '2026-01-01'], /--since only go with --export/],
    [['--export'], /--export needs --since/],
    [['--export', '--since', 'yesterday'], /--since yesterday: not an ISO 8601 date/],
    [['--export', '--since', '2026-02-30'], /--since 2026-02-30: not an ISO 8601 date/],
    [['--export', '--since', '2026-12-01T08:00:00'], /with an offset/],
    [['--export', '--since', '2026-12-02', '--until', '2026-12-01'], /is not after --since/],
    [['--export', '--since', '2026-12-01', '--into', 'x'], /--export takes no --into/],
    [['--export', '--since', '2026-12-01', '--out', ''], /--out needs a file name/],
    [['--frm-beginning'], /Unknown option '--frm-beginning'/],
  ])('refuses %j with exit code 2, the reason and the usage on stderr', async (argv, reason) => {
    const { code, stdout, stderr } = await run(...argv);
    expect(code).toBe(EXIT_REFUSED);
    expect(stdout).toBe('');
    expect(stderr).toMatch(reason);
    expect(stderr).toContain('usage:');
  });
});
