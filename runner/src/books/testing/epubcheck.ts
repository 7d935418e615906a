import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..', '..', '..');

export interface EpubcheckMessage {
  ID: string;
  severity: 'FATAL' | 'ERROR' | 'WARNING' | 'USAGE' | 'INFO';
  message: string;
  locations: { path: string; line: number; column: number }[];
}

export interface EpubcheckReport {
  messages: EpubcheckMessage[];
  checker: { checkerVersion: string; nFatal: number; nError: number; nWarning: number; nUsage: number };
  publication: { title: string; creator: string[]; language: string; identifier: string; nSpines: number };
}

/**
 * Runs EPUBCheck (the W3C's conformance checker) on `file` and returns its JSON report. Its jars come from Maven
 * Central through `scripts/stack.sh install` (stack/epubcheck/pom.xml), which this runs first when they are missing.
 */
export async function epubcheck(file: string): Promise<EpubcheckReport> {
  const classpath = await epubcheckClasspath();
  const { stdout } = await run(
    'java',
    ['-XX:TieredStopAtLevel=1', '-cp', classpath, 'com.adobe.epubcheck.tool.Checker', file, '--json', '-'],
    // EPUBCheck exits 1 when it reports errors; the report is what the caller asserts on.
    { maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
  ).catch((err: { stdout?: string; stderr?: string; message: string }) => {
    if (err.stdout?.trimStart().startsWith('{')) return { stdout: err.stdout };
    throw new Error(`EPUBCheck did not run: ${err.message}\n${err.stderr ?? ''}`);
  });
  return JSON.parse(stdout) as EpubcheckReport;
}

async function epubcheckClasspath(): Promise<string> {
  const file = join(process.env.JOBLINE_STACK_DIR ?? join(ROOT, '.stack'), 'epubcheck', 'classpath');
  const complete = () =>
    existsSync(file) &&
    readFileSync(file, 'utf8')
      .trim()
      .split(':')
      .every((jar) => existsSync(jar));
  if (!complete()) await run('bash', [join(ROOT, 'scripts', 'stack.sh'), 'install'], { maxBuffer: 16 * 1024 * 1024 });
  if (!complete()) throw new Error(`no EPUBCheck class path in ${file} after scripts/stack.sh install`);
  return readFileSync(file, 'utf8').trim();
}
