/**
 * Whether two origins are of one site (scheme + registrable domain), as browsers key storage
 * partitions. Without the Public Suffix List this is an approximation: the registrable domain is
 * the last two labels, or three where the second-to-last is a common second-level label under a
 * two-letter country code (example.co.uk). IP addresses and single-label hosts stand for themselves.
 */

/** Second-level labels that are public suffixes under many country codes. */
const SECOND_LEVEL = new Set(['co', 'com', 'net', 'org', 'gov', 'edu', 'ac', 'or', 'ne', 'go', 'nhs', 'health', 'med']);

/** The registrable-domain part of a host name (lower case). */
export function registrableDomain(host: string): string {
  const name = host.toLowerCase().replace(/\.$/, '');
  if (/^[\d.]+$/.test(name) || name.startsWith('[')) return name; // IPv4, IPv6
  const labels = name.split('.');
  if (labels.length <= 2) return name;
  const [second, tld] = labels.slice(-2) as [string, string];
  const take = tld.length === 2 && SECOND_LEVEL.has(second) ? 3 : 2;
  return labels.slice(-take).join('.');
}

/** The site of a serialized origin: scheme and registrable domain (ports do not count). */
export function siteOf(origin: string): string {
  const url = new URL(origin);
  return `${url.protocol}//${registrableDomain(url.hostname)}`;
}

/** True when both origins are of one site. */
export function sameSite(a: string, b: string): boolean {
  try {
    return siteOf(a) === siteOf(b);
  } catch {
    return false;
  }
}
