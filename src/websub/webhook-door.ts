/**
 * WebSub subscriptions of `tabcast serve --websub` (channels.md §3): each (topic, callback) is one
 * engine subscription whose channel is a WebhookChannel. A request is checked at once (callback
 * origin, events) and answered 202; the callback's intent is verified afterwards, and only then is
 * the channel connected (catch-up follows) or the subscription ended.
 */
import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import type { Hub } from '../hub/index.js';
import { badRequest, notFound, parseEventFilter, type SubscriptionRequest } from '../protocol/index.js';
import type { WebhookDoor } from '../wire/index.js';
import { callbackPolicy, type CallbackPolicy } from './callback-policy.js';
import type { CallOut } from './call-out.js';
import { verifyIntent } from './verify.js';
import { WebhookChannel } from './webhook-channel.js';
import { FALLBACK_DELIVERY_TIMEOUT_MS, realTimers, type WebsubOptions } from './types.js';

/** What the door is built from. */
export interface WebsubDoorOptions extends WebsubOptions {
  hub: Pick<Hub, 'subscribe' | 'unsubscribe' | 'connect' | 'hasEndpoint'>;
  /** The engine's ack timeout in ms (0 = off). */
  ackTimeoutMs: number;
  /** One line per event worth an operator's eye; never a secret. */
  log?: (line: string) => void;
}

interface Webhook {
  topic: string;
  callback: string;
  /** The engine endpoint once subscribed. */
  endpoint: string;
  channel?: WebhookChannel;
  /** Bumped by every request: only the latest request's verification counts. */
  generation: number;
}

/** The WebSub door over one engine. */
export class WebsubDoor implements WebhookDoor {
  private readonly hooks = new Map<string, Webhook>();
  private readonly policy: CallbackPolicy;
  private readonly io: CallOut;
  private readonly log: (line: string) => void;

  constructor(private readonly o: WebsubDoorOptions) {
    this.policy = callbackPolicy(o.allow ?? []);
    this.io = { fetch: o.fetch ?? ((url, init) => fetch(url, init)), timers: o.timers ?? realTimers };
    this.log = o.log ?? (() => undefined);
  }

  /** The callback rule in words. */
  get allowed(): string {
    return this.policy.describe;
  }

  /** Webhook subscriptions known (verified or waiting), for tests and inspection. */
  get size(): number {
    return this.hooks.size;
  }

  request(req: SubscriptionRequest): void {
    const url = this.policy.check(req.callback ?? '');
    const key = JSON.stringify([req.topic, url.href]);
    const known = this.hooks.get(key);
    if (req.mode === 'unsubscribe') {
      if (!known?.channel) throw notFound('hub.callback is not an active webhook subscription of this hub.topic');
      const generation = ++known.generation;
      this.afterVerifying(this.verify(known, url, 'unsubscribe', '', 0, generation), (ok) => {
        if (ok && this.hooks.get(key) === known && this.o.hub.hasEndpoint(known.endpoint)) this.o.hub.unsubscribe(known.topic, known.endpoint);
      });
      return;
    }
    for (const e of req.events) if (!parseEventFilter(e)) throw badRequest(`hub.events names an event the hub does not know: ${JSON.stringify(e)}`, 'value');
    const secret = req.secret ? createSecretKey(Buffer.from(req.secret, 'utf8')) : undefined;
    if (known?.channel && this.o.hub.hasEndpoint(known.endpoint)) {
      // A re-subscription changes events and lease once the callback confirms it again.
      const generation = ++known.generation;
      this.afterVerifying(this.verify(known, url, 'subscribe', req.events.join(','), req.leaseSeconds ?? 0, generation), (ok) => {
        if (!ok || !this.o.hub.hasEndpoint(known.endpoint)) return;
        this.o.hub.subscribe({ topic: req.topic, events: req.events, leaseSeconds: req.leaseSeconds, endpoint: known.endpoint, subscriberName: req.subscriberName });
        known.channel?.setKey(secret);
      });
      return;
    }
    if (known) this.drop(key, known);
    const result = this.o.hub.subscribe({ channel: 'websub', topic: req.topic, events: req.events, leaseSeconds: req.leaseSeconds, subscriberName: req.subscriberName ?? `webhook ${url.origin}` });
    const hook: Webhook = { topic: result.topic, callback: url.href, endpoint: result.endpoint, generation: 1 };
    this.hooks.set(key, hook);
    this.afterVerifying(this.verify(hook, url, 'subscribe', result.events, result.leaseSeconds, 1), (ok) => {
      if (this.hooks.get(key) !== hook || hook.generation !== 1) return;
      if (ok) this.activate(key, hook, secret);
      else this.drop(key, hook);
    });
  }

  /** Runs `then` once verification settles; nothing a callback does may escape as an unhandled rejection. */
  private afterVerifying(verified: Promise<boolean>, then: (ok: boolean) => void): void {
    verified.then(then).catch((error: unknown) => this.log(`tabcast: webhook handling failed: ${error instanceof Error ? error.message : String(error)}`));
  }

  private async verify(hook: Webhook, url: URL, mode: 'subscribe' | 'unsubscribe', events: string, leaseSeconds: number, generation: number): Promise<boolean> {
    const challenge = randomBytes(24).toString('base64url');
    const outcome = await verifyIntent(this.io, url, { mode, topic: hook.topic, events, challenge, leaseSeconds });
    if (outcome !== undefined) this.log(`tabcast: webhook ${url.origin}${url.pathname} did not verify ${mode}: ${outcome}`);
    return outcome === undefined && hook.generation === generation;
  }

  private activate(key: string, hook: Webhook, secret: KeyObject | undefined): void {
    if (!this.o.hub.hasEndpoint(hook.endpoint)) return void this.hooks.delete(key);
    const channel = new WebhookChannel({
      io: this.io,
      callback: hook.callback,
      key: secret,
      timeoutMs: this.o.ackTimeoutMs > 0 ? this.o.ackTimeoutMs : FALLBACK_DELIVERY_TIMEOUT_MS,
      onClosed: () => {
        if (this.hooks.get(key) === hook) this.hooks.delete(key);
      },
    });
    hook.channel = channel;
    channel.attach(this.o.hub.connect(hook.endpoint, channel));
  }

  /** Forgets a webhook that never verified; the engine ends its subscription without a word to it. */
  private drop(key: string, hook: Webhook): void {
    this.hooks.delete(key);
    hook.generation++;
    if (this.o.hub.hasEndpoint(hook.endpoint)) this.o.hub.unsubscribe(hook.topic, hook.endpoint);
  }
}
