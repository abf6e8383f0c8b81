// The floor relay of floor-worker.js with timestamps, for bench/experiments/hops.mjs only: each
// relayed message records [dispatched, deserialized, posted] (epoch ms) in self.__bench.stamps,
// read back over CDP. SharedWorkers are not cross-origin isolated: 100 µs jittered steps, so use means.
const now = () => performance.timeOrigin + performance.now();
const groups = new Map();
self.__bench = { stamps: [] };

self.onconnect = (event) => {
  const port = event.ports[0];
  port.onmessage = (hello) => {
    const { group: name, role } = hello.data;
    let g = groups.get(name);
    if (!g) groups.set(name, (g = { pub: new Set(), sub: new Set() }));
    (role === 'pub' ? g.pub : g.sub).add(port);
    const peers = role === 'pub' ? g.sub : g.pub;
    port.onmessage = (m) => {
      const t0 = now();
      const data = m.data;
      const t1 = now();
      for (const p of peers) p.postMessage(data);
      if (self.__bench.stamps.length < 20000) self.__bench.stamps.push({ id: data.id, w: [t0, t1, now()] });
    };
    port.postMessage({ hello: name });
  };
  port.start();
};
