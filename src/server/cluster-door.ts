/** Cluster mode at the door of `tabcast serve`: joining Redis, /healthz, and adopting endpoints before an upgrade. */
import { ClusterNode } from '../cluster/index.js';
import type { WireHandler } from '../wire/index.js';

/** What the server needs from cluster mode. */
export interface ClusterDoor {
  node: ClusterNode;
  /** /healthz: 200 with `redis: "ok"`, else 503 with the reason, and `missedChanges` once the replica missed changes of the log (HUB-CLUSTER-05). */
  health(): { status: number; body: unknown };
  /** Adopts the endpoint of an upgrade request when another instance issued it; never rejects. */
  beforeUpgrade(wire: WireHandler, target: string | undefined, base: string): Promise<void>;
}

/** Joins the cluster on `redisUrl`; rejects with a readable reason when Redis cannot be reached. */
export async function clusterDoor(redisUrl: string, instanceId: string | undefined, log: (line: string) => void): Promise<ClusterDoor> {
  const node = await ClusterNode.connect({ redisUrl, instanceId, log });
  return {
    node,
    health() {
      const s = node.healthState();
      const body = s.redis === 'ok' ? { instance: s.instance, redis: 'ok' } : { instance: s.instance, redis: 'down', reason: s.reason, ...(s.missedChanges === undefined ? {} : { missedChanges: s.missedChanges }) };
      return { status: s.redis === 'ok' ? 200 : 503, body };
    },
    async beforeUpgrade(wire, target, base) {
      try {
        const url = new URL(target ?? '/', base).href;
        if (wire.isEndpoint(url)) return;
        const endpoint = new URL(url).pathname.split('/').pop();
        if (endpoint) await node.adoptEndpoint(decodeURIComponent(endpoint));
      } catch {
        // the upgrade check that follows answers 400/404
      }
    },
  };
}
