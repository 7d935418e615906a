import type { ReplayProgress } from './replay';

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressReporter {
  update(progress: ReplayProgress): void;
  /** Draws the last state and leaves the line, so what follows starts on its own. */
  finish(): void;
}

const BAR_WIDTH = 30;

/**
 * Replay progress on stderr: a bar redrawn in place on a terminal, else a plain line now and then (a log file or a CI
 * console would otherwise fill with carriage returns). A `label` names what is replayed (`replay jobs [###...] ...`).
 */
export function createProgressReporter(
  stream: ProgressStream,
  options: { redrawMs?: number; lineEveryMs?: number; label?: string } = {},
): ProgressReporter {
  const tty = stream.isTTY === true;
  const name = options.label ? `replay ${options.label}` : 'replay';
  const every = tty ? (options.redrawMs ?? 100) : (options.lineEveryMs ?? 5000);
  let last: ReplayProgress | undefined;
  let shownAt = -Infinity;

  const rate = (p: ReplayProgress) => (p.elapsedMs > 0 ? Math.round(p.done / (p.elapsedMs / 1000)) : 0);
  const count = (n: number) => n.toLocaleString('en-US');

  function bar(p: ReplayProgress) {
    const share = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
    const figures = `${Math.floor(share * 100)}% ${count(p.done)}/${count(p.total)} events, ${count(rate(p))} events/s`;
    const width = Math.max(10, Math.min(BAR_WIDTH, (stream.columns ?? 80) - figures.length - `${name} [] `.length - 1));
    const filled = Math.round(share * width);
    return `${name} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${figures}`;
  }

  function show(p: ReplayProgress) {
    if (tty) stream.write(`\r\x1b[K${bar(p)}`);
    else stream.write(`${name}: ${count(p.done)}/${count(p.total)} events, ${count(rate(p))} events/s\n`);
  }

  return {
    update(progress) {
      last = progress;
      if (progress.elapsedMs - shownAt < every) return;
      shownAt = progress.elapsedMs;
      show(progress);
    },
    finish() {
      if (!last) return;
      if (shownAt !== last.elapsedMs) show(last);
      if (tty) stream.write('\n');
    },
  };
}
