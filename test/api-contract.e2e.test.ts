import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { testNamespace } from '@jobline/libs/testing';
import { startJobline, type Jobline } from './service-process';

const ROOT = join(__dirname, '..');
const STACK_DIR = process.env.JOBLINE_STACK_DIR ?? join(ROOT, '.stack');
const SCHEMATHESIS = join(STACK_DIR, 'schemathesis', 'venv', 'bin', 'schemathesis');
/** Where schemathesis.toml (seed, examples per operation, workers) and hooks.py are. */
const CONFIG_DIR = join(ROOT, 'stack', 'schemathesis');
const TOKEN = 'contract-fuzz-token';

function runSchemathesis(base: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(SCHEMATHESIS, ['run', `${base}/openapi.json`, '--no-color'], {
      cwd: CONFIG_DIR,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        JOBLINE_FUZZ_TOKEN: TOKEN,
        COLUMNS: '120',
        // Loading hooks.py leaves no __pycache__ in the checkout.
        PYTHONDONTWRITEBYTECODE: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

/**
 * The OpenAPI document is the contract: schemathesis derives requests from it (valid and invalid, its boundaries,
 * and sequences that follow its links from a created job to its reads and commands) and checks every answer against
 * it. A 5xx, an answer the document does not describe, a valid request refused or an invalid one accepted fails.
 */
describe('the HTTP API against its OpenAPI document', () => {
  const ns = testNamespace();
  const blobDir = `/tmp/jobline-blobs-${ns.database}`;
  let jobline: Jobline;

  beforeAll(async () => {
    // CI's `scripts/stack.sh install` has installed it already; a machine that ran only part of the stack may not have.
    if (!existsSync(SCHEMATHESIS)) {
      execFileSync('bash', [join(ROOT, 'scripts', 'stack.sh'), 'install'], { stdio: ['ignore', 'inherit', 'inherit'] });
    }
    jobline = await startJobline(ns, {
      API_TOKENS: `${TOKEN}:contract`,
      RATE_LIMIT_PER_MINUTE: '1000000',
      BLOB_STORE: 'file',
      BLOB_DIR: blobDir,
    });
  }, 600_000);

  afterAll(async () => {
    await jobline?.stop();
    await rm(blobDir, { recursive: true, force: true });
  });

  it('answers every generated request as its document says, and stays up', async () => {
    const { code, output } = await runSchemathesis(jobline.base);
    // schemathesis closes on a pytest-style line ("==== 1 warning in 52s ===="), which CI's log readers take for a
    // pytest run that executed no test: the summary is printed without its ruled lines.
    const summary = output
      .slice(output.indexOf('\n', output.lastIndexOf('SUMMARY')) + 1)
      .split('\n')
      .filter((line) => !/^=+.*=+$/.test(line.trim()))
      .join('\n');
    process.stdout.write(`schemathesis:\n${summary}\n`);

    if (code !== 0) throw new Error(`schemathesis exited with ${code}:\n${output}`);
    // Still up after all of it: no request took a process down.
    expect((await fetch(`${jobline.base}/health`)).status).toBe(200);
  }, 600_000);
});
