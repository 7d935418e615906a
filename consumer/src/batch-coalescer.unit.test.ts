import { BatchCoalescer } from './batch-coalescer';

/** A write that records what it was given and finishes when the test says so. */
function controlledWrite() {
  const calls: { batches: string[][]; finish: (err?: Error) => void }[] = [];
  const write = (batches: string[][]) =>
    new Promise<number>((resolve, reject) => {
      calls.push({ batches, finish: (err) => (err ? reject(err) : resolve(calls.length)) });
    });
  return { calls, write };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('BatchCoalescer', () => {
  it('writes batches submitted together in one write, and gives each its result', async () => {
    const { calls, write } = controlledWrite();
    const coalescer = new BatchCoalescer(write, (b: string[]) => b.length);

    const results = [coalescer.submit(['a']), coalescer.submit(['b', 'c']), coalescer.submit(['d'])];
    await tick();
    expect(calls.map((c) => c.batches)).toEqual([[['a'], ['b', 'c'], ['d']]]);
    calls[0]!.finish();

    expect(await Promise.all(results)).toEqual([1, 1, 1]);
  });

  it('writes one at a time: what arrives during a write goes into the next', async () => {
    const { calls, write } = controlledWrite();
    const coalescer = new BatchCoalescer(write, (b: string[]) => b.length);
    const first = coalescer.submit(['a']);
    await tick();

    const later = [coalescer.submit(['b']), coalescer.submit(['c'])];
    await tick();
    expect(calls).toHaveLength(1);
    calls[0]!.finish();
    await first;
    await tick();

    expect(calls.map((c) => c.batches)).toEqual([[['a']], [['b'], ['c']]]);
    calls[1]!.finish();
    expect(await Promise.all(later)).toEqual([2, 2]);
  });

  it('writes at once when enough messages are gathered, without waiting out the linger', async () => {
    const { calls, write } = controlledWrite();
    const coalescer = new BatchCoalescer(write, (b: string[]) => b.length, { lingerMs: 60_000, maxMessages: 3 });

    void coalescer.submit(['a', 'b']);
    await tick();
    expect(calls).toHaveLength(0);
    void coalescer.submit(['c']);

    expect(calls.map((c) => c.batches)).toEqual([[['a', 'b'], ['c']]]);
    calls[0]!.finish();
  });

  it('fails every batch of a failed write, and writes the next ones afresh', async () => {
    const { calls, write } = controlledWrite();
    const coalescer = new BatchCoalescer(write, (b: string[]) => b.length);
    const failing = [coalescer.submit(['a']), coalescer.submit(['b'])];
    await tick();
    calls[0]!.finish(new Error('store away'));

    await expect(Promise.all(failing.map((p) => p.catch((e: Error) => e.message)))).resolves.toEqual([
      'store away',
      'store away',
    ]);
    const retried = coalescer.submit(['a']);
    await tick();
    calls[1]!.finish();
    expect(await retried).toBe(2);
  });
});
