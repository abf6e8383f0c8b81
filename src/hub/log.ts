/** The hub's activity log: what happened, for consoles, inspectors and tests. */

/** One log entry. `detail` holds the notification or a reason. `keep`: an idle topic was kept because it is still in use elsewhere (cluster mode). */
export interface HubLogEntry {
  at: number;
  type: 'subscribe' | 'connect' | 'close' | 'denied' | 'publish' | 'reject' | 'ack' | 'syncerror' | 'storage-error' | 'forget' | 'keep';
  topic?: string;
  subscriber?: string;
  eventId?: string;
  event?: string;
  status?: number;
  detail?: unknown;
}

export class HubLog {
  private readonly listeners = new Set<(entry: HubLogEntry) => void>();

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: (entry: HubLogEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sends an entry to every listener; a throwing listener never breaks the hub. */
  emit(entry: HubLogEntry): void {
    for (const l of this.listeners) {
      try {
        l(entry);
      } catch {
        // a console's bug must not stop a context change
      }
    }
  }
}
