/**
 * A binary min-heap of items by due time, with each item's position kept on the item so that its
 * due time can change or the item can leave in O(log n). The engine keeps one entry per
 * subscription (its next lease end, ack deadline or connect deadline) and one per idle topic, so
 * finding the next deadline never scans subscriptions or topics (issue 19 item 2).
 */

/** Something that can wait in a {@link DeadlineHeap}. */
export interface Scheduled {
  /** Position in the heap; undefined while not in it. Maintained by the heap only. */
  heapIndex?: number;
  /** Due time while in the heap. Maintained by the heap only. */
  dueAt?: number;
  /** Tie-breaker: among equal due times, the item scheduled first comes first. */
  heapSeq?: number;
}

export class DeadlineHeap<T extends Scheduled> {
  private readonly items: T[] = [];
  private seq = 0;

  /** Number of items waiting. */
  get size(): number {
    return this.items.length;
  }

  /** The item due first, without removing it. */
  peek(): T | undefined {
    return this.items[0];
  }

  /** Puts `item` in the heap due at `at`, or moves it there; `undefined` takes it out. */
  set(item: T, at: number | undefined): void {
    if (at === undefined || Number.isNaN(at)) {
      this.remove(item);
      return;
    }
    const index = item.heapIndex;
    if (index === undefined) {
      item.dueAt = at;
      item.heapSeq = ++this.seq;
      item.heapIndex = this.items.length;
      this.items.push(item);
      this.up(item.heapIndex);
      return;
    }
    if (item.dueAt === at) return;
    const earlier = at < item.dueAt!;
    item.dueAt = at;
    if (earlier) this.up(index);
    else this.down(index);
  }

  /** Takes `item` out of the heap, if it is in it. */
  remove(item: T): void {
    const index = item.heapIndex;
    if (index === undefined) return;
    const last = this.items.pop()!;
    item.heapIndex = undefined;
    item.dueAt = undefined;
    if (last === item) return;
    this.items[index] = last;
    last.heapIndex = index;
    this.up(index);
    this.down(last.heapIndex);
  }

  /** Every item, in no particular order (used only when the clock steps back). */
  all(): readonly T[] {
    return this.items;
  }

  private before(a: T, b: T): boolean {
    return a.dueAt! < b.dueAt! || (a.dueAt === b.dueAt && a.heapSeq! < b.heapSeq!);
  }

  private up(index: number): void {
    const items = this.items;
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(items[i]!, items[parent]!)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(index: number): void {
    const items = this.items;
    let i = index;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < items.length && this.before(items[left]!, items[smallest]!)) smallest = left;
      if (right < items.length && this.before(items[right]!, items[smallest]!)) smallest = right;
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }

  private swap(i: number, j: number): void {
    const a = this.items[i]!;
    const b = this.items[j]!;
    this.items[i] = b;
    this.items[j] = a;
    a.heapIndex = j;
    b.heapIndex = i;
  }
}
