import { createLogger } from '@jobline/libs';
import { OffsetCommitter, type TopicPartitionOffset } from './offset-committer';

const logger = createLogger({ service: 'test', level: 'error' });
const at = (partition: number, offset: number): TopicPartitionOffset => ({
  topic: 'events',
  partition,
  offset: String(offset),
});

/** A commit function that records its calls and settles when the test says so. */
function controlledCommit() {
  const calls: { offsets: TopicPartitionOffset[]; settle: (err?: Error) => void }[] = [];
  const commit = (offsets: TopicPartitionOffset[]) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ offsets, settle: (err) => (err ? reject(err) : resolve()) });
    });
  return { calls, commit };
}

describe('OffsetCommitter', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('commits the offsets made ready within an interval together, the newest of each partition', async () => {
    const { calls, commit } = controlledCommit();
    const committer = new OffsetCommitter(commit, logger, 200);

    committer.markReady(at(0, 5));
    committer.markReady(at(1, 3));
    committer.markReady(at(0, 9));
    expect(calls).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(200);

    expect(calls.map((c) => c.offsets)).toEqual([[at(0, 9), at(1, 3)]]);
  });

  it('sends one commit at a time; what became ready meanwhile follows', async () => {
    const { calls, commit } = controlledCommit();
    const committer = new OffsetCommitter(commit, logger, 200);
    committer.markReady(at(0, 1));
    await jest.advanceTimersByTimeAsync(200);

    committer.markReady(at(0, 2));
    await jest.advanceTimersByTimeAsync(1000);
    expect(calls).toHaveLength(1);
    calls[0]!.settle();
    await jest.advanceTimersByTimeAsync(200);

    expect(calls.map((c) => c.offsets)).toEqual([[at(0, 1)], [at(0, 2)]]);
  });

  it('tries a failed commit again, unless a newer offset of the partition replaced it', async () => {
    const { calls, commit } = controlledCommit();
    const committer = new OffsetCommitter(commit, logger, 200);
    committer.markReady(at(0, 1));
    committer.markReady(at(1, 1));
    await jest.advanceTimersByTimeAsync(200);
    committer.markReady(at(1, 4));

    calls[0]!.settle(new Error('coordinator moved'));
    await jest.advanceTimersByTimeAsync(200);

    expect(calls[1]!.offsets).toEqual([at(1, 4), at(0, 1)]);
  });

  it('drops a failed commit of an assignment that changed meanwhile', async () => {
    const { calls, commit } = controlledCommit();
    const committer = new OffsetCommitter(commit, logger, 200);
    committer.markReady(at(0, 7));
    await jest.advanceTimersByTimeAsync(200);

    committer.reset();
    calls[0]!.settle(new Error('rebalance in progress'));
    await jest.advanceTimersByTimeAsync(1000);

    expect(calls).toHaveLength(1);
    expect(committer.pending).toBe(0);
  });

  it('commits what is ready at once when drained, after the commit under way', async () => {
    const { calls, commit } = controlledCommit();
    const committer = new OffsetCommitter(commit, logger, 200);
    committer.markReady(at(0, 1));
    await jest.advanceTimersByTimeAsync(200);
    committer.markReady(at(0, 2));

    const drained = committer.drain();
    calls[0]!.settle();
    await jest.advanceTimersByTimeAsync(0);
    expect(calls.map((c) => c.offsets)).toEqual([[at(0, 1)], [at(0, 2)]]);
    calls[1]!.settle();
    await drained;
  });
});
