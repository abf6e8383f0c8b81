/**
 * The STU3 HTTP + WebSocket surface behind `hub.fetch` and `hub.WebSocket`, loaded on first use:
 * apps that use only the typed API never download it (it is a tenth of the worker's weight).
 */
import type { Hub } from '../hub/index.js';
import { HubError } from '../protocol/outcome.js';
import type { WireHandler } from '../wire/types.js';
import type { SerializedResponse } from '../link/messages.js';

type WireModule = typeof import('./standard-api.js');

/** Wire handlers are cached per hub.url; a page could invent endless URLs, so the cache is bounded. */
const MAX_CACHED_WIRES = 16;

/** Settings every wire of the host shares. */
export interface LazyWiresOptions {
  bodyLimitBytes: number;
  onInternalError: (error: unknown) => void;
}

/** One wire per hub.url, over one engine, built once the wire code has loaded. */
export class LazyWires {
  private module?: Promise<WireModule>;
  private loaded?: WireModule;
  private readonly wires = new Map<string, WireHandler>();

  constructor(
    private readonly hub: Hub,
    private readonly options: LazyWiresOptions,
  ) {}

  /** The wire for a normalised hub.url, if its code has loaded already. */
  peek(hubUrl: string): WireHandler | undefined {
    return this.loaded ? this.build(this.loaded, hubUrl) : undefined;
  }

  /** The wire for a normalised hub.url. Rejects with 503 when its code cannot be loaded. */
  async get(hubUrl: string): Promise<WireHandler> {
    return this.build(await this.load(), hubUrl);
  }

  /** Answers a `hub.fetch` request made to a normalised hub.url; its parts are checked first (400/413). */
  async fetch(hubUrl: string, request: unknown): Promise<SerializedResponse> {
    const module = await this.load();
    return module.serveFetch(this.build(module, hubUrl), module.serializedRequest(request, this.options.bodyLimitBytes));
  }

  private load(): Promise<WireModule> {
    this.module ??= import('./standard-api.js').then(
      (module) => (this.loaded = module),
      (error: unknown) => {
        this.module = undefined; // a later call may try again (e.g. after a network blip)
        throw new HubError(503, 'transient', `the hub could not load tabcast-wire.js, which must be served next to tabcast-worker.js: ${String(error)}`);
      },
    );
    return this.module;
  }

  private build(module: WireModule, hubUrl: string): WireHandler {
    const cached = this.wires.get(hubUrl);
    if (cached) return cached;
    const wire = module.createWireHandler(this.hub, { hubUrl, ...this.options });
    if (this.wires.size < MAX_CACHED_WIRES) this.wires.set(hubUrl, wire);
    return wire;
  }
}
