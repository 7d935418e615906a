import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The replay guide (docs/replay.md) and the README's replay section, held to the CLI: the documented `--help` command,
 * run as written from the repository root, prints the usage and exits 0, and every option a documented command uses
 * is one that usage lists.
 */
const ROOT = join(__dirname, '..');

/** The `npm run replay` commands of a document's sh blocks, without their trailing comments. */
function replayCommands(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)]
    .flatMap((m) => m[1]!.split('\n'))
    .filter((line) => line.startsWith('npm run replay '))
    .map((line) => line.replace(/\s+#.*$/, ''));
}

function runShell(command: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('sh', ['-c', command], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('the replay guide', () => {
  const documented = replayCommands('docs/replay.md');
  let usage: string;

  beforeAll(async () => {
    const help = documented.find((command) => command.endsWith(' --help'));
    if (!help) throw new Error('docs/replay.md documents no `npm run replay -- --help`');
    const run = await runShell(help);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    usage = run.stdout;
  });

  it('documents a --help command that prints how to rebuild and compare, and how to export, and exits 0', () => {
    expect(usage).toContain('npm run replay -- --from-beginning --into <database> [--force]');
    expect(usage).toContain('npm run replay -- --export --since <time> [--until <time>] [--out <file>]');
    expect(usage).toContain('docs/events/');
    expect(usage).toContain('docs/replay.md');
  });

  it.each(['docs/replay.md', 'README.md'])('uses in %s only options the usage lists', (file) => {
    const commands = replayCommands(file);
    expect(commands.length).toBeGreaterThanOrEqual(3);
    for (const command of commands) {
      for (const option of command.match(/ --[a-z-]+/g)!.map((o) => o.trim())) {
        if (option === '--silent') continue; // npm's own
        expect({ command, option, listed: new RegExp(`${option}(?![a-z-])`).test(usage) }).toEqual({
          command,
          option,
          listed: true,
        });
      }
    }
  });

  it('links the guide and the event schemas from the README', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain('](docs/replay.md)');
    expect(readFileSync(join(ROOT, 'docs', 'replay.md'), 'utf8')).toContain('](events/)');
  });
});
