/**
 * Per-task batching of the events link (LEAN_PROTOCOL), host → page. Everything the host posts to
 * one page during a task (the notifications of a burst, the answers to publishes that one storage
 * batch made durable) leaves as one message, an array, when the task's microtasks run out. Each
 * postMessage costs a structured clone and a wake-up of the page, so a burst of N costs about N/256.
 */

/** Most messages in one array; a larger burst goes out in several, so no single clone grows without bound. */
export const MAX_BATCH = 256;

/** Collects messages and posts them together at the end of the current task. */
export class TaskBatcher<M> {
  private queue: M[] = [];

  constructor(private readonly send: (data: M | M[]) => void) {}

  /** Queues a message; the first one of a task schedules the flush. */
  post(message: M): void {
    this.queue.push(message);
    if (this.queue.length === 1) queueMicrotask(() => this.flush());
    else if (this.queue.length >= MAX_BATCH) this.flush();
  }

  /** Posts what is queued now: one message alone, several as an array. */
  flush(): void {
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    this.send(batch.length === 1 ? batch[0]! : batch);
  }
}

/** The messages one postMessage carried: an array's items (one level deep), else the message itself. */
export function unbatch(data: unknown): unknown[] {
  return Array.isArray(data) ? data : [data];
}
