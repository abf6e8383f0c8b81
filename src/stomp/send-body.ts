/**
 * The body of a SEND as a context change request: the STU3 request `{timestamp, id, event}` or a
 * bare event `{hub.topic?, hub.event?, context}`. What the body leaves out comes from the
 * destination; what it states must agree with it (the proposal: "SHALL refuse messages sent to the
 * wrong destination").
 */
import { badRequest, resolveEventName } from '../protocol/index.js';

/** Builds the request `hub.publish` takes; throws a 400 HubError for a body that names another topic or event. */
export function sendRequest(body: string, destination: { topic: string; event: string; canonical: string }, newId: () => string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw badRequest('the SEND body is not JSON: send the STU3 request {timestamp, id, event} or an event {hub.topic, hub.event, context}', 'structure');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw badRequest('the SEND body must be a JSON object: {timestamp, id, event} or {hub.topic, hub.event, context}', 'structure');
  }
  const object = parsed as Record<string, unknown>;
  const wrapped = 'event' in object;
  const request: Record<string, unknown> = wrapped ? { ...object } : { id: newId(), event: object };
  if (wrapped && request.id === undefined) request.id = newId();
  const event = request.event;
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return request; // the engine names the problem
  const fields = { ...(event as Record<string, unknown>) };
  const topic = fields['hub.topic'];
  if (topic === undefined) fields['hub.topic'] = destination.topic;
  else if (typeof topic === 'string' && topic.trim() !== destination.topic) {
    throw badRequest(`event.hub.topic ${JSON.stringify(topic)} differs from the topic of the destination ${JSON.stringify(destination.topic)}: send it to that topic's destination`, 'value');
  }
  const name = fields['hub.event'];
  if (name === undefined) fields['hub.event'] = destination.event;
  else if (typeof name === 'string' && resolveEventName(name)?.name !== destination.canonical) {
    throw badRequest(`event.hub.event ${JSON.stringify(name)} differs from the event of the destination ${JSON.stringify(destination.event)}: send it to that event's destination`, 'value');
  }
  request.event = fields;
  return request;
}
