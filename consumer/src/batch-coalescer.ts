interface Waiting<B, R> {
  batch: B;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

export interface BatchCoalescerOptions {
  /** How long the first batch waits for others before they are written. @defaultValue 0 (the next turn of the loop) */
  lingerMs?: number;
  /** Messages that are written at once, without waiting out the linger. @defaultValue 2000 */
  maxMessages?: number;
}

/**
 * Gathers batches handed over concurrently into one write. kafkajs hands the batches of one fetch, one per partition,
 * to concurrent handlers; each submits its batch here and waits for the write that carries it. One write at a time:
 * what arrives while one is under way goes into the next, so under load a round trip to the store carries the events
 * of every partition instead of a handful each. Every batch of a write gets that write's result, or its error.
 */
export class BatchCoalescer<B, R> {
  private waiting: Waiting<B, R>[] = [];
  private messages = 0;
  private scheduled: { cancel: () => void } | null = null;
  private writing = false;
  private readonly lingerMs: number;
  private readonly maxMessages: number;

  constructor(
    private readonly write: (batches: B[]) => Promise<R>,
    private readonly sizeOf: (batch: B) => number,
    options: BatchCoalescerOptions = {},
  ) {
    this.lingerMs = options.lingerMs ?? 0;
    this.maxMessages = options.maxMessages ?? 2000;
  }

  submit(batch: B): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ batch, resolve, reject });
      this.messages += this.sizeOf(batch);
      if (this.messages >= this.maxMessages) this.flush();
      else this.scheduled ??= this.schedule();
    });
  }

  private schedule(): { cancel: () => void } {
    if (this.lingerMs === 0) {
      const immediate = setImmediate(() => this.flush());
      return { cancel: () => clearImmediate(immediate) };
    }
    const timer = setTimeout(() => this.flush(), this.lingerMs);
    return { cancel: () => clearTimeout(timer) };
  }

  private flush(): void {
    this.scheduled?.cancel();
    this.scheduled = null;
    if (this.writing || this.waiting.length === 0) return;
    const taken = this.waiting;
    this.waiting = [];
    this.messages = 0;
    this.writing = true;
    this.write(taken.map((w) => w.batch))
      .then(
        (result) => taken.forEach((w) => w.resolve(result)),
        (err: unknown) => taken.forEach((w) => w.reject(err)),
      )
      .finally(() => {
        this.writing = false;
        if (this.waiting.length > 0) this.flush();
      });
  }
}
