/**
 * Tracks the offsets of one partition that are being worked on, possibly finishing out of order, and tells how far
 * the committed offset may advance: never past an offset whose work is not done.
 */
export class OffsetTracker {
  private pending: number[] = [];
  /** Index of the oldest unfinished offset in `pending`. */
  private head = 0;
  private readonly done = new Set<number>();
  private committable: number | null = null;

  /** Registers offsets in log order. */
  track(offset: number): void {
    this.pending.push(offset);
  }

  /** Offsets tracked and not yet passed by the committable offset. */
  get size(): number {
    return this.pending.length - this.head;
  }

  /** Marks an offset done; returns the highest offset all of whose predecessors are done, if that moved. */
  complete(offset: number): number | null {
    this.done.add(offset);
    const before = this.committable;
    while (this.head < this.pending.length && this.done.has(this.pending[this.head]!)) {
      const offset = this.pending[this.head++]!;
      this.done.delete(offset);
      this.committable = offset;
    }
    if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.head);
      this.head = 0;
    }
    return this.committable !== before ? this.committable : null;
  }
}
