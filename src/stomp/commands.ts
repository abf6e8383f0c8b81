/**
 * Client frames and what each does (docs/stomp.md has the table): CONNECT/STOMP, SUBSCRIBE,
 * UNSUBSCRIBE, SEND, ACK, NACK, DISCONNECT; BEGIN/COMMIT/ABORT are refused. A thrown error, or a
 * returned promise that rejects, becomes ERROR and a close (see StompSession.fail).
 */
import { badRequest, HubError, unauthorized } from '../protocol/index.js';
import { sendDestination, subscribeDestination } from './destination.js';
import { headerOf, type StompFrame } from './frame.js';
import { heartBeatHeader, negotiateHeartBeat, parseHeartBeat } from './heart-beat.js';
import { sendRequest } from './send-body.js';
import type { StompSession } from './session.js';
import { StompSubscription, type AckMode } from './subscription.js';

/** The session as the commands use it. */
export type FrameContext = StompSession;

const ACK_MODES: readonly AckMode[] = ['auto', 'client', 'client-individual'];
/** SUBSCRIBEs one connection may hold: a bridge needs one per catalog event, an app a handful. */
export const MAX_SUBSCRIPTIONS_PER_CONNECTION = 100;
const DEFAULT_HEART_BEAT = { send: 10_000, receive: 10_000 };
const BEARER = /^Bearer[ \t]+(\S.*)$/i;

/** Runs one client frame; returns a promise when the frames after it must wait. */
export function dispatchFrame(session: FrameContext, frame: StompFrame): Promise<void> | void {
  if (session.state === 'new') {
    if (frame.command !== 'CONNECT' && frame.command !== 'STOMP') throw badRequest(`${frame.command} before CONNECT: the first frame must be CONNECT or STOMP`, 'structure');
    return connect(session, frame);
  }
  switch (frame.command) {
    case 'CONNECT':
    case 'STOMP':
      throw badRequest('this connection is already connected', 'structure');
    case 'SUBSCRIBE':
      return subscribe(session, frame);
    case 'UNSUBSCRIBE':
      return unsubscribe(session, frame);
    case 'SEND':
      return send(session, frame);
    case 'ACK':
    case 'NACK':
      return answer(session, frame);
    case 'DISCONNECT':
      receipt(session, frame);
      return session.disconnect();
    case 'BEGIN':
    case 'COMMIT':
    case 'ABORT':
      throw new HubError(501, 'not-supported', 'transactions are not supported');
    default:
      throw badRequest(`unknown command ${frame.command}`, 'not-supported');
  }
}

function connect(session: FrameContext, frame: StompFrame): Promise<void> | void {
  const versions = (headerOf(frame, 'accept-version') ?? '1.0').split(',').map((v) => v.trim());
  if (!versions.includes('1.2')) throw badRequest(`this hub speaks STOMP 1.2 only; accept-version was ${JSON.stringify(headerOf(frame, 'accept-version') ?? '')}`, 'not-supported');
  const offer = parseHeartBeat(headerOf(frame, 'heart-beat'));
  const hub = session.options.hub;
  if (!hub.usersConfigured) return connected(session, frame, offer);
  const bearer = BEARER.exec((headerOf(frame, 'Authorization') ?? headerOf(frame, 'authorization') ?? '').trim())?.[1]?.trim();
  const secret = headerOf(frame, 'passcode') ?? bearer;
  if (!secret) throw unauthorized('this hub needs the application secret as passcode or Authorization: Bearer <secret>');
  // The frames after CONNECT wait for the check (constant time, HUB-ID-07).
  return hub.verifySecret(secret).then((ok) => {
    if (!ok) throw unauthorized('the passcode is not the application secret');
    connected(session, frame, offer);
  });
}

function connected(session: FrameContext, frame: StompFrame, offer: ReturnType<typeof parseHeartBeat>): void {
  const mine = session.options.heartBeat ?? DEFAULT_HEART_BEAT;
  session.plan = negotiateHeartBeat(offer, mine);
  session.state = 'connected';
  session.subscriberName = headerOf(frame, 'client-id') ?? headerOf(frame, 'login');
  session.write({
    command: 'CONNECTED',
    headers: [
      ['version', '1.2'],
      ['heart-beat', heartBeatHeader(mine)],
      ['server', session.options.serverName],
      ['session', session.options.sessionId],
    ],
    body: '',
  });
}

function subscribe(session: FrameContext, frame: StompFrame): void {
  const id = required(frame, 'id');
  if (session.subscriptions.has(id)) throw badRequest(`subscription id ${JSON.stringify(id)} is already in use on this connection`, 'conflict');
  if (session.subscriptions.size >= MAX_SUBSCRIPTIONS_PER_CONNECTION) throw new HubError(429, 'processing', `one STOMP connection may hold at most ${MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions`);
  const destination = subscribeDestination(headerOf(frame, 'destination'));
  const ackText = headerOf(frame, 'ack') ?? 'auto';
  const ack = ACK_MODES.find((m) => m === ackText);
  if (!ack) throw badRequest(`ack ${JSON.stringify(ackText)} is not auto, client or client-individual`, 'value');
  const hub = session.options.hub;
  const result = hub.subscribe({ topic: destination.topic, events: [destination.event], channel: 'stomp', autoRenew: true, subscriberName: session.subscriberName });
  const sub = new StompSubscription(id, destination, ack, result.endpoint, session);
  session.subscriptions.set(id, sub);
  // The receipt goes before the catch-up MESSAGEs the connect sends.
  receipt(session, frame);
  sub.attach(hub.connect(result.endpoint, sub.channel()));
}

function unsubscribe(session: FrameContext, frame: StompFrame): void {
  const id = required(frame, 'id');
  const sub = session.subscriptions.get(id);
  if (!sub) throw badRequest(`no subscription ${JSON.stringify(id)} on this connection`, 'not-found');
  session.subscriptions.delete(id);
  session.forgetTokens(sub);
  sub.ending = true;
  session.options.hub.unsubscribe(sub.destination.topic, sub.endpoint);
  receipt(session, frame);
}

async function send(session: FrameContext, frame: StompFrame): Promise<void> {
  const receiptId = headerOf(frame, 'receipt');
  try {
    if (headerOf(frame, 'transaction') !== undefined) throw new HubError(501, 'not-supported', 'transactions are not supported');
    const destination = sendDestination(headerOf(frame, 'destination'));
    const request = sendRequest(frame.body, destination, () => `stomp-${session.newToken()}`);
    await session.options.hub.publish(request);
  } catch (error) {
    session.fail(error, { receipt: receiptId });
    return;
  }
  receipt(session, frame);
}

function answer(session: FrameContext, frame: StompFrame): void {
  if (headerOf(frame, 'transaction') !== undefined) throw new HubError(501, 'not-supported', 'transactions are not supported');
  const token = required(frame, 'id');
  const sub = session.subscriptionOf(token);
  // An answer to a MESSAGE already answered (cumulatively) or of an ended subscription changes nothing (HUB-ACK-05).
  if (sub) sub.answer(token, frame.command === 'ACK' ? 200 : nackStatus(headerOf(frame, 'status')));
  receipt(session, frame);
}

/** A NACK's status: its `status` header when that is an HTTP status, else 500. */
function nackStatus(text: string | undefined): number {
  if (text === undefined || !/^\s*\d{3}\s*$/.test(text)) return 500;
  const status = Number(text);
  return status >= 100 && status <= 599 ? status : 500;
}

function receipt(session: FrameContext, frame: StompFrame): void {
  const id = headerOf(frame, 'receipt');
  if (id !== undefined) session.write({ command: 'RECEIPT', headers: [['receipt-id', id]], body: '' });
}

function required(frame: StompFrame, name: string): string {
  const value = headerOf(frame, name);
  if (value === undefined || value === '') throw badRequest(`${frame.command} needs the header ${name}`, 'required');
  return value;
}
