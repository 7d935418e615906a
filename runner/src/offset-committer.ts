import type { Logger } from '@jobline/libs';

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  /** The next offset to read: one past the last message whose work is done. */
  offset: string;
}

/**
 * Commits the offsets a consumer may move past, batched: offsets made ready within `intervalMs` go out in one
 * commit, one commit at a time so that they land in order, and a newer offset of a partition replaces an older one not
 * yet sent. A failed commit is tried again with the next, unless the assignment changed meanwhile (`reset`): then the
 * partition resumes from its last commit wherever it went, and an offset of the old assignment must not be sent.
 */
export class OffsetCommitter {
  private readonly ready = new Map<string, TopicPartitionOffset>();
  private timer: NodeJS.Timeout | null = null;
  private committing: Promise<void> | null = null;
  private generation = 0;

  constructor(
    private readonly commit: (offsets: TopicPartitionOffset[]) => Promise<void>,
    private readonly logger: Logger,
    private readonly intervalMs = 200,
  ) {}

  /** Offsets waiting to be committed. */
  get pending(): number {
    return this.ready.size;
  }

  /** Notes that `offset` is the partition's next offset to read; it is committed with the next batch. */
  markReady(next: TopicPartitionOffset): void {
    this.ready.set(`${next.topic}:${next.partition}`, next);
    this.timer ??= setTimeout(() => this.flush(), this.intervalMs);
  }

  /** Forgets the offsets not yet committed: the assignment changed, and each partition resumes from its last commit. */
  reset(): void {
    this.generation += 1;
    this.ready.clear();
  }

  /** Commits what is ready now, after any commit under way, and waits for it (failures are not retried). */
  async drain(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.committing;
    const offsets = [...this.ready.values()];
    this.ready.clear();
    if (offsets.length > 0) await this.commit(offsets).catch(() => undefined);
  }

  private flush(): void {
    this.timer = null;
    if (this.committing || this.ready.size === 0) return;
    const generation = this.generation;
    const sent = new Map(this.ready);
    this.ready.clear();
    this.committing = this.commit([...sent.values()])
      .catch((err: unknown) => {
        this.logger.debug('offsets not committed; trying again', { err });
        if (this.generation !== generation) return;
        for (const [key, entry] of sent) if (!this.ready.has(key)) this.ready.set(key, entry);
      })
      .finally(() => {
        this.committing = null;
        if (this.ready.size > 0) this.timer ??= setTimeout(() => this.flush(), this.intervalMs);
      });
  }
}
