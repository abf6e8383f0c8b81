/** Topic ids as every door receives them (HUB-SUB-16). */
import { badRequest } from './outcome.js';

const MAX_TOPIC_LENGTH = 256;
const PRINTABLE = /^[\x21-\x7e\u00a0-\uffff][\x20-\x7e\u00a0-\uffff]*$/;

/** Checks a topic id: non-empty, at most 256 printable characters (HUB-SUB-16). */
export function validateTopic(topic: unknown, where = 'hub.topic'): string {
  if (typeof topic !== 'string' || topic.trim() === '') throw badRequest(`${where} is missing`, 'required');
  const t = topic.trim();
  if (t.length > MAX_TOPIC_LENGTH) throw badRequest(`${where} is longer than ${MAX_TOPIC_LENGTH} characters`, 'value');
  if (!PRINTABLE.test(t)) throw badRequest(`${where} contains characters that are not printable`, 'value');
  return t;
}
