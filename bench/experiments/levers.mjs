// Builds copies of the library with the hot-path levers of issue 17 switched off, so that each
// lever can be measured alone and together against the floor (bench/compare.mjs):
//
//   node bench/experiments/levers.mjs /tmp/tabcast-levers none text lean batch all
//   node bench/compare.mjs --rounds 3 --only pair,paced,burst /tmp/tabcast-levers/{none,text,lean,batch,all}
//
// A variant names the levers it keeps ('none' = all off, 'all' = the sources as they are; join
// several with '+', e.g. text+batch). The levers, as the sources have them:
//   text      the worker serialises each notification once and posts its JSON text; pages parse it
//   lean      publish and its answer travel on the events port (a counter id, one message each way)
//             instead of a Comlink call (Proxy, UUID, FinalizationRegistry, a reply message)
//   batch     the host posts what one task produced for a page (notifications, answers) as one
//             array, up to 256 messages
// Three more levers were first measured under heavy load (2026-12-04) and taken out: `bodytext`,
// `pagebatch` and `laterwrite`. Measured again on a quiet machine (2026-12-05, round 5 in
// bench/analysis.md, builds made from commits rather than by this script) they paid, and are in the
// sources now as page-host protocol 3 and the worker's group commit.
// Switching a lever off is an exact text replacement in a copy of the sources; when a source no
// longer has the text, this script stops and says which.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const LEVERS = ['text', 'lean', 'batch'];

/** What switching each lever off replaces: [file, text in the sources, replacement]. Applied in this order. */
const OFF = {
  text: [['src/host/session.ts', "if (message.t === 'event' && typeof message.frame === 'object') message = { ...message, frame: frameText(message.frame) };", '']],
  lean: [
    ['src/client/hub-client.ts', 'this.connection.run((session) => session.publish(', 'this.connection.call((api) => api.publish('],
  ],
  batch: [['src/link/batching.ts', '    this.queue.push(message);\n', '    return this.send(message);\n']],
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
