/**
 * A per-client cap on subscriptions that were made but never connected (HUB-SEC-14, issue #19
 * M1). Any web page can create them with a `no-cors` form POST, and each is kept until its
 * connect deadline. The client is its remote address; behind a proxy that is the proxy.
 */
import { retryLater } from '../wire/index.js';

/** Unconnected subscriptions one remote address may hold by default. */
export const DEFAULT_MAX_UNCONNECTED_PER_IP = 100;
/**
 * Retry-After of a refusal: the engine drops a never-connected subscription after its connect
 * deadline (60 s, HUB-BOUND-06), which frees a slot at the latest.
 */
export const UNCONNECTED_RETRY_AFTER_SECONDS = 60;

/** The ledger of unconnected subscriptions per address. */
export interface UnconnectedCap {
  /** Throws a 429 HubError with Retry-After when `address` already holds its share. */
  admit(address: string): void;
  /** Records a new subscription made by `address`. */
  subscribed(address: string, endpointId: string): void;
  /** The subscription was connected (or ended): it no longer counts. */
  settled(endpointId: string): void;
  /** Unconnected subscriptions counted for `address` (after dropping ended ones). */
  count(address: string): number;
}

/**
 * Builds the ledger. `isLive` says whether the engine still holds a subscription: entries it
 * dropped (lease or connect deadline, unsubscribe) are forgotten when next looked at, so no
 * engine hook is needed and the ledger never outgrows `max` entries per address.
 */
export function unconnectedCap(max: number, isLive: (endpointId: string) => boolean): UnconnectedCap {
  const byAddress = new Map<string, Set<string>>();
  const addressOf = new Map<string, string>();
  let sweepIn = SWEEP_EVERY;

  function prune(address: string): Set<string> | undefined {
    const ids = byAddress.get(address);
    if (!ids) return undefined;
    for (const id of ids) if (!isLive(id)) forget(id);
    return byAddress.get(address);
  }

  function forget(endpointId: string): void {
    const address = addressOf.get(endpointId);
    if (address === undefined) return;
    addressOf.delete(endpointId);
    const ids = byAddress.get(address);
    ids?.delete(endpointId);
    if (ids?.size === 0) byAddress.delete(address);
  }

  /**
   * Addresses that never come back would keep their dead entries: sweep them all once as many
   * admissions have passed as there are entries, so a sweep costs O(1) per admission on average.
   */
  function sweepSometimes(): void {
    if (--sweepIn > 0) return;
    for (const address of [...byAddress.keys()]) prune(address);
    sweepIn = Math.max(SWEEP_EVERY, addressOf.size);
  }

  return {
    admit(address) {
      sweepSometimes();
      // Only a full share is worth a look for ended entries: a subscribe stays O(1) below the cap.
      if ((byAddress.get(address)?.size ?? 0) >= max && (prune(address)?.size ?? 0) >= max) {
        throw retryLater(429, `this client already holds ${max} subscriptions that never connected: connect to their endpoints, or retry later`, UNCONNECTED_RETRY_AFTER_SECONDS);
      }
    },
    subscribed(address, endpointId) {
      let ids = byAddress.get(address);
      if (!ids) byAddress.set(address, (ids = new Set()));
      ids.add(endpointId);
      addressOf.set(endpointId, address);
    },
    settled: forget,
    count(address) {
      return prune(address)?.size ?? 0;
    },
  };
}

const SWEEP_EVERY = 1024;
