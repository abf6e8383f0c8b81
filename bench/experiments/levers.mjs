// Builds copies of the library with the hot-path levers of issue 17 switched off, so that each
// lever can be measured alone and together against the floor (bench/compare.mjs):
//
//   node bench/experiments/levers.mjs /tmp/tabcast-levers none text bodytext lean batch all
//   node bench/compare.mjs --rounds 3 --only pair,paced,burst /tmp/tabcast-levers/{none,text,bodytext,lean,batch,all}
//
// A variant names the levers it keeps ('none' = all off, 'all' = the sources as they are; join
// several with '+', e.g. text+batch). The levers, as the sources have them:
//   text      the worker serialises each notification once and posts its JSON text; pages parse it
//   bodytext  the page sends the context change as JSON text; the host checks its size and parses it
//             once (instead of a structured clone, then JSON.stringify + JSON.parse in the host)
//   lean      publish and its answer travel on the events port (a counter id, one message each way)
//             instead of a Comlink call (Proxy, UUID, FinalizationRegistry, a reply message)
//   batch     each side posts what one task produced (notifications, acks, publishes, answers) as
//             one array, up to 256 messages
//   pagebatch the page's side of `batch` alone (its publishes and acks); off, only the worker batches
// (A sixth lever, laterwrite, started each IndexedDB batch 4 ms after its first change; it did not
// pay and was taken out again: levers.mjs of commit "Experiment: IndexedDB batches…" still builds it.)
// Switching a lever off is an exact text replacement in a copy of the sources; when a source no
// longer has the text, this script stops and says which.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const LEVERS = ['text', 'bodytext', 'lean', 'batch', 'pagebatch'];

/** What switching each lever off replaces: [file, text in the sources, replacement]. Applied in this order. */
const OFF = {
  text: [['src/host/session.ts', "if (message.t === 'event' && typeof message.frame === 'object') message = { ...message, frame: frameText(message.frame) };", '']],
  bodytext: [
    ['src/client/hub-client.ts', 'session.publish(requestText(body))', 'session.publish(body as never)'],
    ['src/host/session.ts', "typeof m.body === 'string') {", 'm.body !== undefined) {'],
    ['src/host/session.ts', 'check.jsonText(body, this.host.bodyLimitBytes))).then', 'check.jsonBody(body, this.host.bodyLimitBytes))).then'],
  ],
  lean: [
    ['src/client/hub-client.ts', 'this.connection.run((session) => session.publish(', 'this.connection.call((api) => api.publish('],
    ['src/host/session.ts', 'hub.publish(check.jsonBody(body, this.host.bodyLimitBytes))),', "hub.publish(typeof body === 'string' ? check.jsonText(body, this.host.bodyLimitBytes) : check.jsonBody(body, this.host.bodyLimitBytes))),"],
  ],
  batch: [['src/link/batching.ts', '    this.queue.push(message);\n', '    return this.send(message);\n']],
  pagebatch: [['src/client/session.ts', 'new TaskBatcher<ClientMessage>((data) => channels.events.postMessage(data));', '{ post: (message: ClientMessage) => channels.events.postMessage(message) };']],
};

/** The levers a variant name keeps. */
export function keptLevers(name) {
  if (name === 'all') return [...LEVERS];
  if (name === 'none') return [];
  const kept = name.split('+');
  for (const k of kept) if (!LEVERS.includes(k)) throw new Error(`unknown lever ${k}; known: ${LEVERS.join(', ')}`);
  return kept;
}

function switchOff(dir, lever) {
  for (const [file, from, to] of OFF[lever]) {
    const path = join(dir, file);
    const text = readFileSync(path, 'utf8');
    if (!text.includes(from)) throw new Error(`lever ${lever}: ${file} no longer contains ${JSON.stringify(from)}`);
    writeFileSync(path, text.replace(from, to));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dirArg, ...names] = process.argv.slice(2);
  if (!dirArg || names.length === 0) {
    console.error(`usage: node bench/experiments/levers.mjs DIR VARIANT…   (VARIANT = none, all, or levers joined with +: ${LEVERS.join(', ')})`);
    process.exit(2);
  }
  const dir = resolve(dirArg);
  for (const name of names) {
    const kept = keptLevers(name);
    const target = join(dir, name);
    rmSync(target, { recursive: true, force: true });
    mkdirSync(join(target, 'scripts'), { recursive: true });
    for (const part of ['src', 'worker', 'bin', 'package.json', 'tsconfig.json', 'tsconfig.build.json']) cpSync(join(root, part), join(target, part), { recursive: true });
    cpSync(join(root, 'scripts/build.mjs'), join(target, 'scripts/build.mjs'));
    symlinkSync(join(root, 'node_modules'), join(target, 'node_modules'));
    for (const lever of LEVERS) if (!kept.includes(lever)) switchOff(target, lever);
    const built = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: target, encoding: 'utf8' });
    if (!existsSync(join(target, 'dist/tabcast-worker.js'))) throw new Error(`${name}: build failed:\n${built.stdout}${built.stderr}`);
    console.log(`${name} (levers on: ${kept.join(', ') || 'none'}): built ${target}/dist`);
  }
}
