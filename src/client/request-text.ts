/**
 * The JSON text of a context change, made in the page (TEXT_PROTOCOL): the host then parses it
 * once instead of uncloning an object graph and serialising it again to measure it.
 */
import { badRequest } from '../protocol/outcome.js';

const NOT_PLAIN = 'the context change request must be plain JSON data (no cycles, functions, symbols or BigInts)';

/**
 * Serialises a context change; a body that is not plain JSON rejects with a 400, as a structured
 * clone would have (functions and symbols, which JSON.stringify would silently drop, included).
 */
export function requestText(body: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(body);
  } catch {
    throw badRequest(NOT_PLAIN, 'structure'); // a cycle or a BigInt
  }
  if (text === undefined) throw badRequest('the context change request must be a JSON object with timestamp, id and event', 'structure');
  // JSON.stringify succeeded, so the graph has no cycle and this walk ends.
  const stack: unknown[] = [body];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'function' || typeof v === 'symbol') throw badRequest(NOT_PLAIN, 'structure');
    if (typeof v === 'object' && v !== null) for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push(child);
  }
  return text;
}
