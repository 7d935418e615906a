import { execFileSync } from 'node:child_process';
import { join, sep } from 'node:path';

/** Packages that do I/O, or start something (a logger, a metrics registry), when they load. */
const ADAPTERS = ['kafkajs', 'mongodb', 'ioredis', '@aws-sdk', 'undici', 'winston', 'prom-client'];

/**
 * Requires a module in a fresh Node process and lists every file Node loaded for it. Jest's module registry stands
 * between a test and Node's `require`, so only a child process shows what a service would load. Each .ts file is
 * compiled on its own, as tsc does it: imports used only as types are dropped, as they are from dist.
 */
const LOAD_AND_LIST = `
const { readFileSync } = require('node:fs');
const ts = require('typescript');
require.extensions['.ts'] = (module, file) => {
  const compilerOptions = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true };
  module._compile(ts.transpileModule(readFileSync(file, 'utf8'), { fileName: file, compilerOptions }).outputText, file);
};
require(process.argv[1]);
process.stdout.write(JSON.stringify(Object.keys(require.cache)));
`;

function filesLoadedBy(entry: string): string[] {
  const output = execFileSync(process.execPath, ['-e', LOAD_AND_LIST, join(__dirname, '..', entry)], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return JSON.parse(output) as string[];
}

const packagesAmong = (files: string[], names: string[]) =>
  names.filter((name) => files.some((file) => file.includes(`${sep}node_modules${sep}${name}${sep}`)));

describe('@jobline/libs/core', () => {
  it('loads the state machines and schemas without any adapter package', () => {
    const files = filesLoadedBy('core/index.ts');

    expect(files).toContain(join(__dirname, '..', 'jobs', 'evolve-job.ts'));
    expect(packagesAmong(files, ADAPTERS)).toEqual([]);
  });

  it('is checked by a listing that does see adapters where they are loaded', () => {
    const files = filesLoadedBy('kafka/index.ts');

    expect(packagesAmong(files, ADAPTERS)).toContain('kafkajs');
  });
});
