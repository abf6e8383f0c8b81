/**
 * Reads a subscribe/unsubscribe request from a form body or a JSON body into one normalised shape
 * (fhircast-spec.md §3.1, HUB-TOLERANT-01/02/03). Errors are 400s whose text names the parameter.
 */
import { badRequest, HubError } from './outcome.js';
import { MAX_EVENT_NAME_LENGTH } from './name-limits.js';
import { validateTopic } from './topic.js';

/** Most `hub.events` entries one subscription may list (HUB-SEC-11); the catalog has far fewer. */
export const MAX_EVENTS_PER_SUBSCRIPTION = 256;
/** Longest `subscriber.name`, in characters (HUB-SEC-11): it is kept for the whole lease. */
export const MAX_SUBSCRIBER_NAME_LENGTH = 256;

/** A validated subscription request. */
export interface SubscriptionRequest {
  mode: 'subscribe' | 'unsubscribe';
  topic: string;
  /** Raw `hub.events` entries, trimmed, empty ones dropped (subscribe only). */
  events: string[];
  leaseSeconds?: number;
  endpoint?: string;
  subscriberName?: string;
  /** `webhook` (or `websub`) with `tabcast serve --websub` (channels.md §3); else `websocket`. */
  channelType?: 'websocket' | 'webhook';
  /** `hub.callback` of a webhook subscription. */
  callback?: string;
  /** `hub.secret` of a webhook subscription: signs deliveries, never logged or stored. */
  secret?: string;
  /** `hub.channel.dialect`: `2019` frames the socket in the 2019 envelope (channels.md §4). */
  dialect?: 'stu3' | '2019';
}

/** What the door accepts beyond STU3. */
export interface SubscriptionRequestOptions {
  /** Accept `hub.channel.type` webhook/websub with `hub.callback` (`tabcast serve --websub`). */
  webhooks?: boolean;
}

const WEBHOOK_TYPES = new Set(['webhook', 'websub']);

function parseLease(raw: unknown): number {
  const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
  if (!/^[0-9]+$/.test(text) || Number(text) <= 0 || !Number.isSafeInteger(Number(text))) {
    throw badRequest(`hub.lease_seconds must be a positive integer, got ${JSON.stringify(raw)}`, 'value');
  }
  return Number(text);
}

function asText(name: string, raw: unknown): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'string') return raw.trim();
  if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  throw badRequest(`${name} must be a string`, 'value');
}

/** Collects form parameters, refusing any parameter given twice (fhircast-spec.md §3.1). */
export function formParams(form: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of form) {
    if (Object.hasOwn(out, k)) throw badRequest(`parameter ${k} appears more than once`, 'structure');
    out[k] = v;
  }
  return out;
}

/**
 * Validates a subscription request given as a flat record of `hub.*` members (from a form or a
 * JSON object). Throws a HubError (400) naming the problem.
 */
export function parseSubscriptionRequest(params: Record<string, unknown>, options: SubscriptionRequestOptions = {}): SubscriptionRequest {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw badRequest('subscription request must be a form or a JSON object of hub.* parameters', 'structure');
  }
  const channelType = asText('hub.channel.type', params['hub.channel.type']);
  const mode = asText('hub.mode', params['hub.mode']);
  if (!mode) throw badRequest('hub.mode is missing (expected subscribe or unsubscribe)', 'required');
  if (mode !== 'subscribe' && mode !== 'unsubscribe') {
    throw badRequest(`hub.mode ${JSON.stringify(mode)} is not supported (expected subscribe or unsubscribe)`, 'value');
  }
  if (!channelType) throw badRequest('hub.channel.type is missing (expected websocket)', 'required');
  const webhook = WEBHOOK_TYPES.has(channelType.toLowerCase());
  if (channelType.toLowerCase() !== 'websocket' && !(webhook && options.webhooks)) {
    const hint = webhook ? ' (webhook callbacks need tabcast serve --websub; the in-page hub never calls out)' : '';
    throw badRequest(`hub.channel.type ${JSON.stringify(channelType)} is not supported: STU3 hubs offer websocket only${hint}`, 'not-supported');
  }
  const topic = validateTopic(params['hub.topic']);
  checkNameLimit(params['subscriber.name']);
  const endpoint = asText('hub.channel.endpoint', params['hub.channel.endpoint']) || undefined;
  const subscriberName = asText('subscriber.name', params['subscriber.name']) || undefined;
  const extra = webhook ? webhookFields(params) : dialectField(params);

  if (mode === 'unsubscribe') {
    if (!webhook && !endpoint) throw badRequest('hub.channel.endpoint is required to unsubscribe', 'required');
    return { mode, topic, events: [], endpoint, ...extra };
  }

  const rawEvents = params['hub.events'];
  let events: string[];
  if (Array.isArray(rawEvents)) {
    if (!rawEvents.every((e) => typeof e === 'string')) throw badRequest('hub.events must be a list of event names', 'value');
    events = rawEvents.flatMap((e: string) => e.split(','));
  } else if (typeof rawEvents === 'string') {
    events = rawEvents.split(',');
  } else if (rawEvents === undefined || rawEvents === null) {
    events = [];
  } else {
    throw badRequest('hub.events must be a comma-separated string or a list of event names', 'value');
  }
  events = events.map((e) => e.trim()).filter((e) => e !== '');
  if (events.length === 0) throw badRequest('hub.events is missing or empty: name the events to subscribe to', 'required');
  checkEventLimits(events);

  const leaseRaw = params['hub.lease_seconds'] ?? params['hub.lease'];
  const leaseSeconds = leaseRaw === undefined || leaseRaw === null || leaseRaw === '' ? undefined : parseLease(leaseRaw);
  return { mode, topic, events, leaseSeconds, endpoint, subscriberName, ...extra };
}

/** `hub.callback` (required) and `hub.secret` of a webhook subscription. */
function webhookFields(params: Record<string, unknown>): Partial<SubscriptionRequest> {
  const callback = asText('hub.callback', params['hub.callback']);
  if (!callback) throw badRequest('hub.callback is required for a webhook subscription', 'required');
  if (callback.length > 2048) throw badRequest('hub.callback is longer than 2048 characters', 'value');
  const secret = asText('hub.secret', params['hub.secret']) || undefined;
  if (secret !== undefined && secret.length > 1024) throw badRequest('hub.secret is longer than 1024 characters', 'value');
  return { channelType: 'webhook', callback, ...(secret ? { secret } : {}) };
}

/** `hub.channel.dialect`: `stu3` (default) or `2019`. */
function dialectField(params: Record<string, unknown>): Partial<SubscriptionRequest> {
  const raw = asText('hub.channel.dialect', params['hub.channel.dialect'])?.toLowerCase();
  if (!raw || raw === 'stu3') return {};
  if (raw !== '2019') throw badRequest(`hub.channel.dialect ${JSON.stringify(raw)} is not supported (expected stu3 or 2019)`, 'value');
  return { dialect: '2019' };
}

/** Refuses (400) a subscriber.name longer than the hub keeps for a whole lease (HUB-SEC-11). */
function checkNameLimit(raw: unknown): void {
  if (typeof raw === 'string' && raw.trim().length > MAX_SUBSCRIBER_NAME_LENGTH) {
    throw badRequest(`subscriber.name is longer than ${MAX_SUBSCRIBER_NAME_LENGTH} characters`, 'value');
  }
}

/** Refuses (400) an event list longer than the hub keeps, or a name longer than any it knows (HUB-SEC-11). */
function checkEventLimits(events: readonly string[]): void {
  if (events.length > MAX_EVENTS_PER_SUBSCRIPTION) {
    throw badRequest(`hub.events lists ${events.length} entries; at most ${MAX_EVENTS_PER_SUBSCRIPTION} are accepted`, 'value');
  }
  const long = events.find((e) => e.length > MAX_EVENT_NAME_LENGTH);
  if (long !== undefined) {
    throw badRequest(`hub.events has an entry longer than ${MAX_EVENT_NAME_LENGTH} characters (starting ${JSON.stringify(long.slice(0, 40))})`, 'value');
  }
}

export { HubError };
