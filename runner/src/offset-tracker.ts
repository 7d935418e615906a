/**
 * Tracks the offsets of one partition's batch that are being worked on, possibly finishing out of order, and tells
 * how far the committed offset may advance: never past an offset whose work is not done.
 */
export class OffsetTracker {
  private readonly pending: number[] = [];
  private readonly done = new Set<number>();
  private committable: number | null = null;

  /** Registers offsets in log order. */
  track(offset: number): void {
    this.pending.push(offset);
  }

  /** Marks an offset done; returns the highest offset all of whose predecessors are done, if that moved. */
  complete(offset: number): number | null {
    this.done.add(offset);
    const before = this.committable;
    while (this.pending.length > 0 && this.done.has(this.pending[0]!)) {
      const head = this.pending.shift()!;
      this.done.delete(head);
      this.committable = head;
    }
    return this.committable !== before ? this.committable : null;
  }
}
