/** Thrown by the waits still under way when `endAll` is called, and by any begun after. */
export class WaitEnded extends Error {
  constructor() {
    super('the wait was ended');
  }
}

/**
 * Timed waits that one call ends all at once. A wait per job on one shared `AbortSignal` would do the same, but Node
 * checks every new listener of a signal against those it already has, so a hundred thousand waits would cost time
 * quadratic in their number.
 */
export class TimedWaits {
  private readonly ends = new Set<() => void>();
  private ended = false;

  /** Resolves after `ms`; rejects with `WaitEnded` when `endAll` comes first. */
  wait(ms: number): Promise<void> {
    if (this.ended) return Promise.reject(new WaitEnded());
    return new Promise((resolve, reject) => {
      const end = () => {
        clearTimeout(timer);
        reject(new WaitEnded());
      };
      const timer = setTimeout(() => {
        this.ends.delete(end);
        resolve();
      }, ms);
      this.ends.add(end);
    });
  }

  /** Ends every wait under way, and every wait begun later, with `WaitEnded`. */
  endAll(): void {
    this.ended = true;
    for (const end of this.ends) end();
    this.ends.clear();
  }

  /** Waits under way. */
  get size(): number {
    return this.ends.size;
  }
}
