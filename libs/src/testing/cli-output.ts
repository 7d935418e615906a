import type { CliIo } from '../cli/cli-command';

export interface CliOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs an administration command with its stdout and stderr captured, for asserting on them byte for byte. */
export async function runCaptured(run: (io: CliIo) => Promise<number>): Promise<CliOutput> {
  let stdout = '';
  let stderr = '';
  const code = await run({
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}
