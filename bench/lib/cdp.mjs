// CDP access to a SharedWorker, which Playwright does not expose (stack-notes pitfall 4): a browser
// session discovers the `shared_worker` target and talks to it with Target.sendMessageToTarget.

/** The browserContextId of the context whose page URL contains `marker`. */
async function contextIdOf(cdp, marker) {
  const { targetInfos } = await cdp.send('Target.getTargets');
  return targetInfos.find((t) => t.type === 'page' && t.url.includes(marker))?.browserContextId;
}

/**
 * Attaches to the SharedWorker whose script URL contains `scriptPart`, in the browser context of
 * the page whose URL contains `pageMarker`. Returns `{ send(method, params), on(event, fn), detach() }`.
 */
export async function attachSharedWorker(browser, { scriptPart, pageMarker, timeoutMs = 10_000 }) {
  const cdp = await browser.newBrowserCDPSession();
  await cdp.send('Target.setDiscoverTargets', { discover: true });
  const deadline = Date.now() + timeoutMs;
  let target;
  while (!target) {
    const contextId = await contextIdOf(cdp, pageMarker);
    const { targetInfos } = await cdp.send('Target.getTargets');
    target = targetInfos.find((t) => t.type === 'shared_worker' && t.url.includes(scriptPart) && (!contextId || t.browserContextId === contextId));
    if (!target) {
      if (Date.now() > deadline) throw new Error(`no shared_worker target for ${scriptPart}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: target.targetId, flatten: false });
  let nextId = 1;
  const pending = new Map();
  const listeners = new Map();
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    if (e.sessionId !== sessionId) return;
    const msg = JSON.parse(e.message);
    if (msg.id !== undefined && pending.has(msg.id)) {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
      else p.resolve(msg.result);
    } else if (msg.method) {
      for (const fn of listeners.get(msg.method) ?? []) fn(msg.params);
    }
  });
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject, method });
      cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) }).catch(reject);
    });
  return {
    url: target.url,
    send,
    on(event, fn) {
      if (!listeners.has(event)) listeners.set(event, []);
      listeners.get(event).push(fn);
    },
    off(event, fn) {
      listeners.set(event, (listeners.get(event) ?? []).filter((f) => f !== fn));
    },
    async detach() {
      await cdp.send('Target.detachFromTarget', { sessionId }).catch(() => undefined);
      await cdp.detach().catch(() => undefined);
    },
  };
}

/** Used JS heap in bytes after two forced garbage collections. */
export async function heapAfterGc(session) {
  await session.send('HeapProfiler.collectGarbage');
  await session.send('HeapProfiler.collectGarbage');
  const { usedSize, totalSize } = await session.send('Runtime.getHeapUsage');
  return { usedSize, totalSize };
}

/**
 * Counts of live objects by kind and constructor name, from a heap snapshot (HeapProfiler).
 * `session` has `send(method, params)` and `on(event, listener)`. Returns Map key → { count, size }.
 */
export async function heapCensus(session) {
  const chunks = [];
  const onChunk = (e) => chunks.push(e.chunk);
  session.on('HeapProfiler.addHeapSnapshotChunk', onChunk);
  await session.send('HeapProfiler.enable');
  await session.send('HeapProfiler.collectGarbage');
  await session.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  session.off?.('HeapProfiler.addHeapSnapshotChunk', onChunk);
  const snap = JSON.parse(chunks.join(''));
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const [iType, iName, iSize] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const census = new Map();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + iType]];
    if (type === 'hidden' || type === 'synthetic') continue;
    const name = type === 'object' || type === 'closure' ? `${type} ${snap.strings[snap.nodes[i + iName]]}` : `(${type})`;
    const c = census.get(name) ?? { count: 0, size: 0 };
    c.count += 1;
    c.size += snap.nodes[i + iSize];
    census.set(name, c);
  }
  chunks.length = 0;
  return census;
}

/** The kinds of objects that grew most between two censuses, by retained count. */
export function censusGrowth(before, after, top = 8) {
  const rows = [];
  for (const [name, a] of after) {
    const b = before.get(name) ?? { count: 0, size: 0 };
    if (a.count > b.count) rows.push({ name, count: a.count - b.count, size: a.size - b.size });
  }
  return rows.sort((x, y) => y.size - x.size).slice(0, top);
}
