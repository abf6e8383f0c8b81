/**
 * The host end of the page's `hub.WebSocket` shims: each socket is an id on the client's events
 * link, attached to the wire's `acceptSocket` exactly as a real WebSocket is in `tabcast serve`.
 */
import type { ConnectionHandle } from '../hub/index.js';
import type { WireHandler } from '../wire/index.js';
import type { HostMessage } from '../link/messages.js';
import { CLOSE_TRY_AGAIN_LATER, DEFAULT_PORT_BUDGET_MESSAGES, overBudgetReason, portBudget, type PortBudget } from './port-budget.js';

/** Close code of a connection that failed or dropped without a close frame. */
export const ABNORMAL_CLOSE = 1006;

/** The sockets one client has open. */
export class SocketRelay {
  private readonly sockets = new Map<string, ConnectionHandle>();
  private readonly budgets = new Map<string, PortBudget>();
  /** Sockets waiting for the wire's code to load; a page cannot send on them before they open. */
  private readonly opening = new Set<string>();

  constructor(
    private readonly post: (message: HostMessage) => void,
    private readonly reportInternal: (error: unknown) => void,
    /** Unanswered notifications per socket before it fails (HUB-SEC-13). */
    private readonly budgetMessages = DEFAULT_PORT_BUDGET_MESSAGES,
  ) {}

  /**
   * Opens socket `id` to `url`, once the wire is there; an endpoint that is not live fails as a
   * refused upgrade does (error, then 1006).
   */
  open(id: string, url: string, wire: WireHandler | Promise<WireHandler>): void {
    if (this.sockets.has(id) || this.opening.has(id)) return; // a repeated open of a live id changes nothing
    if (!(wire instanceof Promise)) return this.attach(id, url, wire);
    this.opening.add(id);
    wire.then(
      (loaded) => {
        if (this.opening.delete(id)) this.attach(id, url, loaded);
      },
      (error: unknown) => {
        this.reportInternal(error);
        if (this.opening.delete(id)) this.post({ t: 'ws-close', id, code: ABNORMAL_CLOSE, reason: '', clean: false });
      },
    );
  }

  private attach(id: string, url: string, wire: WireHandler): void {
    if (!wire.isEndpoint(url)) {
      this.post({ t: 'ws-close', id, code: ABNORMAL_CLOSE, reason: '', clean: false });
      return;
    }
    // ws-open goes first: acceptSocket sends the confirmation synchronously, on the same link.
    this.post({ t: 'ws-open', id });
    const budget = portBudget(this.budgetMessages, () => this.overBudget(id, handle));
    const handle = wire.acceptSocket(url, {
      send: (data, expectsAnswer) => {
        if (!expectsAnswer || budget.sending()) this.post({ t: 'ws-frame', id, data });
      },
      close: (code, reason) => {
        this.budgets.delete(id);
        if (this.sockets.delete(id)) this.post({ t: 'ws-close', id, code, reason, clean: true });
      },
    });
    if (handle) {
      this.sockets.set(id, handle);
      this.budgets.set(id, budget);
    } else this.post({ t: 'ws-close', id, code: ABNORMAL_CLOSE, reason: '', clean: false });
  }

  /** A page that stopped answering on this socket is a failed delivery (HUB-SEC-13). */
  private overBudget(id: string, handle: ConnectionHandle | undefined): void {
    if (!handle || this.sockets.get(id) !== handle) return;
    this.sockets.delete(id);
    this.budgets.delete(id);
    handle.closed(CLOSE_TRY_AGAIN_LATER, { endSubscription: true });
    this.post({ t: 'ws-close', id, code: CLOSE_TRY_AGAIN_LATER, reason: overBudgetReason(this.budgetMessages), clean: true });
  }

  /** A text frame from the page. Frames for unknown ids are dropped, like frames after a close. */
  frame(id: string, data: string): void {
    this.budgets.get(id)?.answered();
    this.sockets.get(id)?.receive(data);
  }

  /** The page closed socket `id`: the engine hears the code, the page gets the closing handshake back. */
  close(id: string, code: number, reason: string): void {
    if (this.opening.delete(id)) {
      this.post({ t: 'ws-close', id, code, reason, clean: false });
      return;
    }
    const handle = this.sockets.get(id);
    if (!handle) return;
    this.sockets.delete(id);
    this.budgets.delete(id);
    handle.closed(code);
    // 1006 is what a page sends when it gave up before the open: not a clean close.
    this.post({ t: 'ws-close', id, code, reason, clean: code !== ABNORMAL_CLOSE });
  }

  /** Forgets sockets still waiting for the wire: their session is over. */
  forgetOpening(): void {
    this.opening.clear();
  }

  /** Ends every socket: `dead` for a vanished tab (abnormal, its subscriptions end), else a normal 1000. */
  closeAll(dead: boolean): void {
    this.opening.clear();
    this.budgets.clear();
    for (const [id, handle] of this.sockets) {
      this.sockets.delete(id);
      if (dead) handle.closed(ABNORMAL_CLOSE, { endSubscription: true });
      else handle.closed(1000);
    }
  }
}
