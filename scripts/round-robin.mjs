#!/usr/bin/env node
// A tiny TCP round-robin for trying cluster mode locally: each new connection goes to the next
// backend, skipping one that refuses. Enough for a demo; in production use nginx or HAProxy.
//
//   node scripts/round-robin.mjs --listen 5200 --to 5201,5202,5203 [--host 127.0.0.1]
import { connect, createServer } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { listen: { type: 'string', default: '5200' }, to: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' } } });
const backends = (values.to ?? '').split(',').filter(Boolean).map((p) => {
  const [h, port] = p.includes(':') ? p.split(':') : ['127.0.0.1', p];
  return { host: h, port: Number(port) };
});
if (backends.length === 0 || backends.some((b) => !Number.isInteger(b.port))) {
  console.error('usage: node scripts/round-robin.mjs --listen PORT --to PORT,PORT,… (or HOST:PORT,…)');
  process.exit(2);
}

let next = 0;

/** Connects `client` to the next backend that accepts, trying each one once. */
function forward(client, tried = 0) {
  if (tried >= backends.length) {
    client.destroy();
    return;
  }
  const target = backends[next++ % backends.length];
  const upstream = connect(target.port, target.host);
  const refused = () => forward(client, tried + 1);
  upstream.once('error', refused);
  upstream.once('connect', () => {
    upstream.off('error', refused);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
    client.pipe(upstream).pipe(client);
    client.resume();
  });
}

const server = createServer({ pauseOnConnect: true }, (client) => forward(client));
server.listen(Number(values.listen), values.host, () => {
  console.log(`round-robin on ${values.host}:${values.listen} -> ${backends.map((b) => `${b.host}:${b.port}`).join(', ')}`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
