/**
 * How remote hubs differ from the spec, as small strategy objects. The bridge reads frames and
 * get-context answers tolerantly for every dialect (./frames.ts); a dialect only holds what cannot
 * be guessed from the wire. Adding a dialect means adding an object to DIALECTS.
 */
import type { DialectName } from './types.js';
import { dialect2019 } from './dialect-2019.js';

/** What a confirmation said, as far as a dialect cares. */
export interface ConfirmationFacts {
  topic?: string;
  events?: string;
  leaseSeconds?: number;
}

/** One remote-hub dialect. */
export interface Dialect {
  readonly name: DialectName;
  /** Where a context change request is POSTed. */
  publishUrl(hubUrl: string, topic: string): string;
  /** Where the current context is read (GET). */
  contextUrl(hubUrl: string, topic: string): string;
  /** The heartbeat period assumed when a heartbeat names none, in ms. */
  readonly heartbeatMs: number;
  /** Returns a reason when a confirmation is not for this subscription, else undefined. */
  checkConfirmation(confirmation: ConfirmationFacts, topic: string): string | undefined;
  /** Extra form parameters of a subscribe (the 2019 envelope asks for `hub.channel.dialect`). */
  readonly subscribeParams?: Readonly<Record<string, string>>;
  /** Answers carry no id: the remote takes each as the answer to its oldest unanswered notification. */
  readonly answersWithoutId?: boolean;
  /** The answer frame, when it is not `{id, status}`. */
  answerFrame?(status: number, now: number): unknown;
  /** True for a frame that stands for the confirmation (the 2019 greeting). */
  isGreeting?(frame: unknown): boolean;
  /** Look up `{topic}/protocols` for where the current context is read. */
  readonly listsProtocols?: boolean;
}

/** `{hub.url}/{topic}`, with the topic as one path segment. */
export function topicUrl(hubUrl: string, topic: string): string {
  return `${hubUrl.replace(/\/+$/, '')}/${encodeURIComponent(topic)}`;
}

/**
 * The spec as written (Medplum's STU3 routes, tabcast serve): publish to hub.url, get-context at
 * hub.url/{topic}. A confirmation that names another topic is refused; one that names none is
 * accepted, since the field adds nothing the endpoint does not already say.
 */
export const stu3: Dialect = {
  name: 'stu3',
  publishUrl: (hubUrl) => hubUrl,
  contextUrl: topicUrl,
  heartbeatMs: 10_000,
  checkConfirmation(confirmation, topic) {
    if (confirmation.topic !== undefined && confirmation.topic !== topic) {
      return `the remote hub confirmed a subscription to topic ${JSON.stringify(confirmation.topic)}, not ${JSON.stringify(topic)}`;
    }
    return undefined;
  },
};

/**
 * The STU2-era layout (the community sandbox, OHIF's hub): publish to hub.url/{topic}, which is
 * the only path such hubs take; confirmations carry neither hub.topic nor hub.events; heartbeats
 * come every 15 s as `{id: 'JS SANDBOX', event: {hub.event: 'heartbeat'}}` without a period.
 */
export const topicPath: Dialect = {
  name: 'topic-path',
  publishUrl: topicUrl,
  contextUrl: topicUrl,
  heartbeatMs: 15_000,
  checkConfirmation: () => undefined,
};

/**
 * A hub's STOMP 1.2 channel (the Philips proposal, channels.md §1): the bridge speaks STOMP at
 * `{hub.url}/websocket` (./stomp-bridge.ts) and reads the current context by pull context. The
 * URLs below are the ones it uses over HTTP.
 */
export const stomp: Dialect = {
  name: 'stomp',
  publishUrl: (hubUrl) => hubUrl,
  contextUrl: (hubUrl, topic) => `${topicUrl(hubUrl, topic)}/context`,
  heartbeatMs: 10_000,
  checkConfirmation: () => undefined,
};

/** Every dialect by name. */
export const DIALECTS: Readonly<Record<DialectName, Dialect>> = { stu3, 'topic-path': topicPath, stomp, '2019': dialect2019 };

/** Finds a dialect, or undefined for an unknown name. */
export function dialectNamed(name: string | undefined): Dialect | undefined {
  return Object.hasOwn(DIALECTS, name ?? 'stu3') ? DIALECTS[(name ?? 'stu3') as DialectName] : undefined;
}
