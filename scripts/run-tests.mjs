#!/usr/bin/env node
// `npm test`: unit and integration tests (in parallel workers), then a build and the end-to-end tests (one at a time,
// since they stop and start shared infrastructure). Prints one summary line over all of them.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const resultsDir = join(root, 'test-results');
rmSync(resultsDir, { recursive: true, force: true });
mkdirSync(resultsDir, { recursive: true });
const jest = join(root, 'node_modules', 'jest', 'bin', 'jest.js');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

const phases = [
  { name: 'unit+int', args: ['--selectProjects', 'unit', 'int'] },
  { name: 'e2e', build: true, args: ['--selectProjects', 'e2e', '--runInBand'] },
];

const totals = { passed: 0, failed: 0, skipped: 0 };
let ok = true;
for (const phase of phases) {
  if (phase.build) {
    const builds = [[tsc, '-b'], [join(root, 'scripts', 'build-dashboard.mjs')]];
    if (builds.some((args) => spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' }).status !== 0)) {
      ok = false;
      break;
    }
  }
  const output = join(resultsDir, `${phase.name}.json`);
  const run = spawnSync(
    process.execPath,
    [jest, ...phase.args, '--json', `--outputFile=${output}`, ...process.argv.slice(2)],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  try {
    const result = JSON.parse(readFileSync(output, 'utf8'));
    totals.passed += result.numPassedTests;
    totals.failed += result.numFailedTests;
    totals.skipped += result.numPendingTests + result.numTodoTests;
    if (result.numRuntimeErrorTestSuites > 0) ok = false;
  } catch {
    ok = false;
  }
  if (run.status !== 0) ok = false;
}

process.stdout.write(`\ntests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`);
process.exit(ok && totals.failed === 0 ? 0 : 1);
