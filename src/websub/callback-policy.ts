/**
 * Where webhook callbacks may point (channels.md §3, HUB-WEBSUB-02). A hub that POSTs wherever a
 * client asks can be turned against services only it can reach (SSRF): so callbacks must be
 * http(s) on an allowed origin, the loopback hosts when no `--websub-allow` is given.
 */
import { badRequest } from '../protocol/index.js';

/** Host names that stand for this machine (URL.hostname spells IPv6 with brackets). */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Checks callback URLs against the allowed origins. */
export interface CallbackPolicy {
  /** The callback as a URL when it may be called; throws a HubError 400 with the reason otherwise. */
  check(callback: string): URL;
  /** The rule in words, for the start-up line and error texts. */
  readonly describe: string;
}

/** Builds the policy: exact origins when `allow` names any, else any port on the loopback hosts. */
export function callbackPolicy(allow: readonly string[]): CallbackPolicy {
  const origins = new Set(allow.map((o) => new URL(o).origin));
  const describe = origins.size > 0 ? `the origins ${[...origins].join(', ')}` : 'the loopback hosts 127.0.0.1, localhost and [::1]';
  return {
    describe,
    check(callback) {
      let url: URL;
      try {
        url = new URL(callback);
      } catch {
        throw badRequest('hub.callback is not an absolute URL', 'value');
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badRequest(`hub.callback must be an http or https URL, not ${url.protocol}`, 'value');
      if (url.username || url.password) throw badRequest('hub.callback must not carry credentials', 'value');
      const allowed = origins.size > 0 ? origins.has(url.origin) : LOOPBACK_HOSTS.has(url.hostname.toLowerCase());
      if (!allowed) throw badRequest(`hub.callback origin ${url.origin} is not allowed: this hub calls back only ${describe} (--websub-allow)`, 'value');
      return url;
    },
  };
}
