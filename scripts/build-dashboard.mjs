#!/usr/bin/env node
// Builds the dashboard (dashboard/dist, served by the producer at /ui): its API types from docs/openapi.json, then
// Vite. Skipped when nothing it is built from changed since the last build, so that `npm start` stays quick.
// `--types` only writes the API types (what the type check needs).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dashboard = join(root, 'dashboard');
const apiTypes = join(dashboard, 'src', 'api', 'openapi.gen.ts');
const stamp = join(dashboard, 'dist', '.inputs');

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? files(path) : [path];
  });
}

/** A digest of every file the build reads but its dependencies, which the lockfile stands for. */
function inputsDigest() {
  const inputs = [
    ...files(join(dashboard, 'src')).filter((path) => path !== apiTypes),
    join(dashboard, 'index.html'),
    join(dashboard, 'vite.config.ts'),
    join(dashboard, 'package.json'),
    join(root, 'docs', 'openapi.json'),
    join(root, 'package-lock.json'),
  ].sort();
  const hash = createHash('sha256');
  for (const path of inputs) hash.update(relative(root, path)).update('\0').update(readFileSync(path)).update('\0');
  return hash.digest('hex');
}

async function writeApiTypes() {
  const { default: openapiTS, astToString } = await import('openapi-typescript');
  const document = JSON.parse(readFileSync(join(root, 'docs', 'openapi.json'), 'utf8'));
  const source =
    '// Generated from docs/openapi.json by scripts/build-dashboard.mjs; not committed.\n' +
    astToString(await openapiTS(document));
  if (!existsSync(apiTypes) || readFileSync(apiTypes, 'utf8') !== source) writeFileSync(apiTypes, source);
}

if (process.argv.includes('--types')) {
  await writeApiTypes();
} else {
  const digest = inputsDigest();
  if (existsSync(stamp) && statSync(stamp).isFile() && readFileSync(stamp, 'utf8') === digest) {
    process.stdout.write('dashboard: up to date\n');
  } else {
    const started = Date.now();
    await writeApiTypes();
    const { build } = await import('vite');
    await build({ root: dashboard, configFile: join(dashboard, 'vite.config.ts'), logLevel: 'warn' });
    writeFileSync(stamp, digest);
    process.stdout.write(`dashboard: built in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
  }
}
