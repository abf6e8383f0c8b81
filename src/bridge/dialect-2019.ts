/**
 * The 2019 prototype as a remote-hub dialect (channels.md §4, fhircast-spec.md §12.1): GetTopic with
 * username and app secret, subscriptions asking for the `{header, body}` envelope, answers as flat
 * `{timestamp, status, statusCode}` objects without an id (so they go out in arrival order), the
 * `{timestamp, status, statusCode}` greeting as the confirmation, and the current context read from
 * `{topic}/context` when the remote lists it, else from `{topic}`. Pure shapes, no I/O.
 */
import type { Dialect } from './dialects.js';

/** `{hub.url}/{topic}` (as in ./dialects.ts, repeated here so the two modules do not import each other). */
function topicUrl(hubUrl: string, topic: string): string {
  return `${hubUrl.replace(/\/+$/, '')}/${encodeURIComponent(topic)}`;
}

/** The 2019 dialect. */
export const dialect2019: Dialect = {
  name: '2019',
  publishUrl: (hubUrl) => hubUrl,
  contextUrl: topicUrl,
  // The prototype sends no heartbeats; the watchdog only starts once one is seen.
  heartbeatMs: 10_000,
  // The greeting names no topic; the endpoint already says which subscription it is.
  checkConfirmation: () => undefined,
  subscribeParams: { 'hub.channel.dialect': '2019' },
  answersWithoutId: true,
  answerFrame: (status, now) => ({ timestamp: new Date(now).toISOString(), status: status >= 200 && status <= 299 ? 'OK' : 'Error', statusCode: String(status) }),
  isGreeting,
  listsProtocols: true,
};

/** True for `{timestamp, status, statusCode}` with no event in it: the 2019 hub's greeting. */
function isGreeting(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return v.statusCode !== undefined && v.event === undefined && v.body === undefined && v['hub.mode'] === undefined;
}

/** `GET {hub.url}/gettopic?username=&secret=` (the URL carries the secret: the prototype's design). */
export function getTopicUrl(hubUrl: string, username: string, secret: string): string {
  const url = new URL(`${hubUrl.replace(/\/+$/, '')}/gettopic`);
  url.searchParams.set('username', username);
  url.searchParams.set('secret', secret);
  return url.href;
}

/** Reads the topic from a GetTopic answer; the prototype leaves its shape open: `{hub.topic}`, `{topic}` or bare text. */
export function readTopicAnswer(text: string): string | undefined {
  let value: unknown = text.trim();
  try {
    value = JSON.parse(text);
  } catch {
    // bare text
  }
  if (typeof value === 'object' && value !== null) {
    const v = value as Record<string, unknown>;
    value = v['hub.topic'] ?? v.topic;
  }
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** The `context` URL from a protocol list answer (`{protocols: [{name, url}]}`), if listed. */
export function contextFromProtocols(text: string): string | undefined {
  try {
    const list = (JSON.parse(text) as { protocols?: unknown }).protocols;
    if (!Array.isArray(list)) return undefined;
    const entry = list.find((p): p is { name: string; url: string } => typeof p?.name === 'string' && p.name === 'context' && typeof p.url === 'string');
    return entry?.url;
  } catch {
    return undefined;
  }
}
