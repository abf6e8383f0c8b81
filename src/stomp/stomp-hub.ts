/** What a STOMP connection needs from the engine: the same calls every other door makes. */
import type { Hub } from '../hub/index.js';

/** The engine as the STOMP channel sees it. */
export type StompHub = Pick<Hub, 'subscribe' | 'unsubscribe' | 'connect' | 'publish' | 'usersConfigured' | 'verifySecret'>;
