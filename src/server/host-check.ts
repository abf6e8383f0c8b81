/**
 * The DNS-rebinding defence of `tabcast serve` (HUB-SEC-12). A page on attacker.example can make
 * its own name resolve to 127.0.0.1; the browser then sends it to this hub as same-origin, with
 * `Host: attacker.example`. So the hub answers only to names it was given: the bound host,
 * `localhost`, the `--public-url` host and `--allow-host` names. IP literals cannot be rebound,
 * so on a wildcard bind (0.0.0.0, ::) any IP literal is accepted too.
 */
import { isIP } from 'node:net';

/** What the hub's own names are. */
export interface HostNames {
  /** The interface bound (`--host`). */
  bindHost: string;
  /** hub.url as clients reach it (`--public-url`), when set. */
  publicUrl?: string;
  /** Further names (`--allow-host`), e.g. a LAN name the hub is reached by. */
  allowHosts?: readonly string[];
}

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

/** Builds the check: true when a request's Host header names this hub. */
export function hostCheck(names: HostNames): (hostHeader: string | undefined) => boolean {
  const allowed = new Set<string>(['localhost', normalise(names.bindHost)]);
  if (names.publicUrl !== undefined) allowed.add(normalise(new URL(names.publicUrl).hostname));
  for (const name of names.allowHosts ?? []) allowed.add(normalise(name));
  const anyIp = WILDCARDS.has(names.bindHost);
  return (hostHeader) => {
    const name = hostName(hostHeader);
    if (name === undefined) return false;
    return allowed.has(name) || (anyIp && isIP(name) !== 0);
  };
}

/** The name part of a Host header, lower case, without port, brackets or trailing dot; undefined if malformed. */
export function hostName(hostHeader: string | undefined): string | undefined {
  if (hostHeader === undefined) return undefined;
  const value = hostHeader.trim().toLowerCase();
  if (value === '') return undefined;
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    if (end < 0) return undefined;
    const rest = value.slice(end + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return undefined;
    return value.slice(1, end);
  }
  const colon = value.indexOf(':');
  const name = colon < 0 ? value : value.slice(0, colon);
  if (colon >= 0 && !/^\d{1,5}$/.test(value.slice(colon + 1))) return undefined;
  return normalise(name);
}

function normalise(name: string): string {
  let n = name.trim().toLowerCase();
  if (n.startsWith('[') && n.endsWith(']')) n = n.slice(1, -1);
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

/** The raw answer to a misdirected request or upgrade: 421 and no body. */
export const MISDIRECTED_HEAD = 'HTTP/1.1 421 Misdirected Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';
