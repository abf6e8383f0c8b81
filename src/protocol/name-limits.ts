/**
 * Longest event name the hub accepts, in characters (HUB-SEC-11). Catalog names are under 40;
 * the bound keeps a client from making the hub hold (and log, and echo) megabytes per name.
 * Its own module: the subscription-request parser (the wire's) imports it from here, since an
 * import of event-names.js pulled that parser into the worker's first load.
 */
export const MAX_EVENT_NAME_LENGTH = 256;
