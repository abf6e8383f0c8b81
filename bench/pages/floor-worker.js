// The floor: a raw MessagePort relay in a SharedWorker, doing the least a relay can do.
// A page says hello with {group, role} and waits for the answer before it relies on its port
// (stack-notes pitfall 14). After that, whatever a 'pub' port sends goes to every 'sub' port of its
// group, and whatever a 'sub' port sends goes to every 'pub' port, unchanged (structured clone).
const groups = new Map();

function group(name) {
  let g = groups.get(name);
  if (!g) groups.set(name, (g = { pub: new Set(), sub: new Set() }));
  return g;
}

self.onconnect = (event) => {
  const port = event.ports[0];
  port.onmessage = (hello) => {
    const { group: name, role } = hello.data;
    const g = group(name);
    const mine = role === 'pub' ? g.pub : g.sub;
    const peers = role === 'pub' ? g.sub : g.pub;
    mine.add(port);
    port.onmessage = (m) => {
      for (const p of peers) p.postMessage(m.data);
    };
    port.postMessage({ hello: name });
  };
  port.start();
};
