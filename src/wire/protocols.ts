/**
 * The Philips proposal's protocol list (channels.md §2): which channels this door has enabled and
 * where they are, per topic at `{hub.url}/{topic}/protocols` and as templates in `.well-known`.
 */
import type { HubLocation } from './endpoints.js';

/** Channels a door may offer besides STU3 WebSocket and pull context, which are always on. */
export interface ChannelSwitches {
  /** STOMP 1.2 at `{hub.url}/websocket`. Default true. */
  stomp?: boolean;
  /** WebSub callbacks at `{hub.url}/{topic}/websub`. Default false (tabcast serve --websub). */
  websub?: boolean;
}

/** One entry of the protocol list. */
export interface ProtocolEntry {
  name: 'websocket' | 'stomp' | 'context' | 'websub';
  url: string;
}

/** The path segment of the STOMP endpoint below hub.url. */
export const STOMP_SEGMENT = 'websocket';

/** The switches with their defaults filled in. */
export function channelSwitches(options: ChannelSwitches | undefined): Required<ChannelSwitches> {
  return { stomp: options?.stomp ?? true, websub: options?.websub ?? false };
}

/** The STOMP endpoint's URL: `ws(s)://…{hub.url's path}/websocket`. */
export function stompUrl(location: HubLocation): string {
  return `${location.socketOrigin}${location.path}/${STOMP_SEGMENT}`;
}

/**
 * The enabled channels with their URLs. `topicSegment` is the topic as a URL path segment, or a
 * template such as `{topic}` for the well-known document.
 */
export function protocolList(location: HubLocation, switches: Required<ChannelSwitches>, topicSegment: string): ProtocolEntry[] {
  const list: ProtocolEntry[] = [{ name: 'websocket', url: location.url }];
  if (switches.stomp) list.push({ name: 'stomp', url: stompUrl(location) });
  list.push({ name: 'context', url: `${location.url}/${topicSegment}/context` });
  if (switches.websub) list.push({ name: 'websub', url: `${location.url}/${topicSegment}/websub` });
  return list;
}
