/**
 * Endpoint URLs ↔ engine endpoint ids. An endpoint URL is `ws(s)://<hub origin><hub path>/ws/<id>`:
 * the id is the engine's unguessable token and the topic never appears in it (HUB-SEC-01).
 */

/** Where endpoints live below hub.url's path. */
const ENDPOINT_SEGMENT = 'ws';

/** The parts of hub.url the wire routes by. */
export interface HubLocation {
  /** hub.url without a trailing slash. */
  url: string;
  /** hub.url's path without a trailing slash ('' when hub.url is an origin). */
  path: string;
  /** `ws://host:port` for an http hub, `wss://host:port` for https (HUB-SUB-01). */
  socketOrigin: string;
}

/** Reads hub.url once; throws a TypeError when it is not an absolute http(s) URL. */
export function hubLocation(hubUrl: string): HubLocation {
  const url = new URL(hubUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`hub.url must be an http or https URL, got ${hubUrl}`);
  const path = url.pathname.replace(/\/+$/, '');
  const scheme = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return { url: `${url.origin}${path}`, path, socketOrigin: `${scheme}//${url.host}` };
}

/** The `hub.channel.endpoint` URL for an engine endpoint id. */
export function endpointUrl(hub: HubLocation, endpointId: string): string {
  return `${hub.socketOrigin}${hub.path}/${ENDPOINT_SEGMENT}/${encodeURIComponent(endpointId)}`;
}

/**
 * The engine endpoint id named by an endpoint URL, or undefined when the URL is not one of ours.
 * Only the path is compared: clients may reach the hub under another host name, and a socket
 * door may see an http(s) URL for the upgrade request.
 */
export function endpointIdFromUrl(hub: HubLocation, url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const prefix = `${hub.path}/${ENDPOINT_SEGMENT}/`;
  if (!parsed.pathname.startsWith(prefix)) return undefined;
  const rest = parsed.pathname.slice(prefix.length);
  if (rest === '' || rest.includes('/')) return undefined;
  try {
    return decodeURIComponent(rest);
  } catch {
    return undefined;
  }
}

/** True when a path below hub.url (already split into segments) addresses the endpoint area. */
export function isEndpointPath(segments: readonly string[]): boolean {
  return segments.length === 2 && segments[0] === ENDPOINT_SEGMENT;
}
