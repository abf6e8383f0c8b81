/**
 * A lean WebSocket subscriber for load tests: it answers every notification at once and keeps only
 * the sequence numbers of the events it got (ids `ev-<n>`), so that its own memory stays small.
 */
import { WebSocket } from 'ws';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

export class LeanSubscriber {
  /** Sequence numbers of the `ev-<n>` notifications received, in arrival order. */
  readonly seqs: number[] = [];
  /** Ids of other notifications (catch-up of events from before, SyncErrors). */
  readonly others: string[] = [];
  syncErrors = 0;
  confirmed = false;
  readonly closed: Promise<number>;
  private readonly ready: Promise<void>;

  private constructor(readonly ws: WebSocket, readonly endpoint: string) {
    this.closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
    ws.on('error', () => undefined);
    this.ready = new Promise((resolve, reject) => {
      ws.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as { 'hub.mode'?: string; id?: string; event?: { 'hub.event': string } };
        if (frame['hub.mode'] === 'subscribe') {
          this.confirmed = true;
          resolve();
          return;
        }
        if (!frame.event || frame.event['hub.event'] === 'heartbeat') return;
        if (frame.event['hub.event'] === 'syncerror') {
          this.syncErrors++;
          return;
        }
        ws.send(`{"id":${JSON.stringify(frame.id)},"status":200}`);
        const m = /^ev-(\d+)$/.exec(frame.id ?? '');
        if (m) this.seqs.push(Number(m[1]));
        else this.others.push(frame.id ?? '');
      });
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused with ${res.statusCode}`)));
      ws.once('close', () => reject(new Error('closed before the confirmation')));
    });
  }

  /** Subscribes over HTTP, opens the endpoint and resolves after the confirmation. */
  static async join(hubUrl: string, topic: string, events: string, lease?: number): Promise<LeanSubscriber> {
    const params: Record<string, string> = { 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.events': events };
    if (lease !== undefined) params['hub.lease_seconds'] = String(lease);
    const res = await fetch(hubUrl, { method: 'POST', headers: FORM, body: new URLSearchParams(params).toString() });
    if (res.status !== 202) throw new Error(`subscribe answered ${res.status}: ${await res.text()}`);
    const endpoint = ((await res.json()) as Record<string, string>)['hub.channel.endpoint']!;
    const sub = new LeanSubscriber(new WebSocket(endpoint), endpoint);
    await sub.ready;
    return sub;
  }

  /** Resolves once the hub has handled every frame this client sent so far (a pong follows them). */
  flushed(): Promise<void> {
    return new Promise((resolve) => {
      this.ws.once('pong', () => resolve());
      this.ws.ping();
    });
  }

  /** Closes normally (1000) and waits for the close to complete. */
  async leave(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000);
    await this.closed;
  }

  /** Drops the connection without a close frame (1006 at the hub). */
  async drop(): Promise<void> {
    this.ws.terminate();
    await this.closed;
  }
}

/** Posts a Patient-open with id `ev-<seq>`; resolves with the status. */
export async function postEvent(hubUrl: string, topic: string, seq: number, patient: string): Promise<number> {
  const res = await fetch(hubUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      timestamp: new Date().toISOString(),
      id: `ev-${seq}`,
      event: { 'hub.topic': topic, 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: patient } }] },
    }),
  });
  await res.arrayBuffer();
  return res.status;
}
