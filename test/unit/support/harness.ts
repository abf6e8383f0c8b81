/** Test harness: an engine with a fake clock, memory storage and recording channels. */
import { Hub, type HubOptions } from '../../../src/hub/index.js';
import { memoryStorage } from '../../../src/adapters/memory-storage.js';
import { webCrypto } from '../../../src/adapters/web-crypto.js';

export class FakeClock {
  constructor(public t = Date.parse('2026-01-01T00:00:00Z')) {}
  now = () => this.t;
  advance(ms: number) {
    this.t += ms;
  }
}

export class RecordingChannel {
  frames: any[] = [];
  closedWith?: { code: number; reason: string };
  send(frame: unknown) {
    this.frames.push(JSON.parse(JSON.stringify(frame)));
  }
  close(code: number, reason: string) {
    this.closedWith = { code, reason };
  }
  /** Notifications (frames with an event), heartbeats excluded. */
  get events() {
    return this.frames.filter((f) => f.event && f.event['hub.event'] !== 'heartbeat');
  }
  clear() {
    this.frames = [];
  }
}

export async function makeHub(options: Partial<HubOptions> = {}) {
  const clock = new FakeClock();
  const storage = options.storage ?? memoryStorage();
  const hub = await Hub.create({ clock, crypto: webCrypto, storage, heartbeatMs: 0, ...options });
  const tick = (ms: number) => {
    clock.advance(ms);
    hub.tick();
  };
  return { hub, clock, storage, tick };
}
