/**
 * A cap on bytes of request bodies held at once across all requests (HUB-SEC-14, issue #19 M4):
 * each body is capped by the body limit, but 300 stalled bodies of 1 MiB still held 300 MB.
 */

/** The default cap on request-body bytes in flight: 64 MiB. */
export const DEFAULT_BODY_BYTES_IN_FLIGHT = 64 * 1024 * 1024;

/** The shared ledger; one `account` per request. */
export interface BodyBudget {
  /** Opens the account of one request; `release` returns everything it took. */
  account(): BodyAccount;
  /** Bytes held now, over all requests. */
  readonly inFlight: number;
}

/** One request's share of the budget. */
export interface BodyAccount {
  /** Takes `bytes`; false (and nothing taken) when the budget would be exceeded. */
  take(bytes: number): boolean;
  /** Gives back all this request took; later calls do nothing. */
  release(): void;
}

/** Builds the ledger for `capBytes` of bodies in flight. */
export function bodyBudget(capBytes: number): BodyBudget {
  let inFlight = 0;
  return {
    get inFlight() {
      return inFlight;
    },
    account() {
      let held = 0;
      let open = true;
      return {
        take(bytes) {
          if (!open || inFlight + bytes > capBytes) return false;
          inFlight += bytes;
          held += bytes;
          return true;
        },
        release() {
          if (!open) return;
          open = false;
          inFlight -= held;
          held = 0;
        },
      };
    },
  };
}
