import { createProgressReporter } from './replay-progress';

function stream(isTTY: boolean, columns?: number) {
  const writes: string[] = [];
  return { writes, isTTY, columns, write: (text: string) => writes.push(text) };
}

describe('replay progress', () => {
  it('redraws one bar in place on a terminal, within its width, and leaves the line when done', () => {
    const tty = stream(true, 60);
    const progress = createProgressReporter(tty, { redrawMs: 100 });

    progress.update({ done: 1000, total: 4000, elapsedMs: 500 });
    progress.update({ done: 1500, total: 4000, elapsedMs: 550 });
    progress.update({ done: 4000, total: 4000, elapsedMs: 1000 });
    progress.finish();

    expect(tty.writes).toHaveLength(3);
    expect(tty.writes[0]).toBe('\r\x1b[Kreplay [###........] 25% 1,000/4,000 events, 2,000 events/s');
    expect(tty.writes[1]).toBe(`\r\x1b[Kreplay [${'#'.repeat(10)}] 100% 4,000/4,000 events, 4,000 events/s`);
    expect(tty.writes.every((w) => w.length - '\r\x1b[K'.length < 60)).toBe(true);
    expect(tty.writes[2]).toBe('\n');
  });

  it('writes a plain line now and then elsewhere, and the final state at the end', () => {
    const log = stream(false);
    const progress = createProgressReporter(log, { lineEveryMs: 5000 });

    for (let second = 1; second <= 12; second += 1)
      progress.update({ done: second * 100, total: 1250, elapsedMs: second * 1000 });
    progress.finish();

    expect(log.writes).toEqual([
      'replay: 100/1,250 events, 100 events/s\n',
      'replay: 600/1,250 events, 100 events/s\n',
      'replay: 1,100/1,250 events, 100 events/s\n',
      'replay: 1,200/1,250 events, 100 events/s\n',
    ]);
  });

  it('names what it reports on, when given a label, on a terminal and elsewhere', () => {
    const tty = stream(true, 70);
    const log = stream(false);
    const bar = createProgressReporter(tty, { label: 'schedules' });
    const lines = createProgressReporter(log, { label: 'schedules' });

    for (const progress of [bar, lines]) {
      progress.update({ done: 10, total: 40, elapsedMs: 1000 });
      progress.finish();
    }

    expect(tty.writes[0]).toBe(
      `\r\x1b[Kreplay schedules [${'#'.repeat(5)}${'.'.repeat(15)}] 25% 10/40 events, 10 events/s`,
    );
    expect(tty.writes[0]!.length - '\r\x1b[K'.length).toBeLessThan(70);
    expect(log.writes).toEqual(['replay schedules: 10/40 events, 10 events/s\n']);
  });
});
