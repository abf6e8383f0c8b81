/**
 * CORS for `tabcast serve` (HUB-SEC-05/06): only origins listed with --allow-origin get CORS
 * headers, matched exactly and echoed back, never `*`. Everyone else gets none.
 */

/** The CORS answer for one request. */
export interface CorsDecision {
  /** Headers to add to the response (empty for origins that are not allowed). */
  headers: Record<string, string>;
  /** True for a preflight of an allowed origin: answer it here, the hub never sees it. */
  answerPreflight: boolean;
}

const ALLOWED_METHODS = 'GET, POST, OPTIONS';
const ALLOWED_HEADERS = 'Authorization, Content-Type';

/** Decides the CORS headers for a request from its method and headers. */
export function corsFor(allowed: ReadonlySet<string>, method: string, origin: string | undefined, requestMethod: string | undefined): CorsDecision {
  // Responses differ by Origin whenever an allow-list exists, so caches must key on it.
  const vary: Record<string, string> = allowed.size > 0 ? { vary: 'Origin' } : {};
  if (origin === undefined || !allowed.has(origin)) return { headers: vary, answerPreflight: false };
  const headers: Record<string, string> = { ...vary, 'access-control-allow-origin': origin };
  const preflight = method === 'OPTIONS' && requestMethod !== undefined;
  if (preflight) {
    headers['access-control-allow-methods'] = ALLOWED_METHODS;
    headers['access-control-allow-headers'] = ALLOWED_HEADERS;
    headers['access-control-max-age'] = '600';
  }
  return { headers, answerPreflight: preflight };
}
