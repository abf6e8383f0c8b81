// Builds a patched copy of the library for a what-if measurement, leaving the repo untouched:
//
//   node bench/experiments/make.mjs /tmp/tabcast-exp [base] [coalesce] [nopersist] …
//
// For each NAME, copies src/, worker/, bin/, scripts/build.mjs and the package files to DIR/NAME,
// links node_modules, applies bench/experiments/NAME.patch (none for `base`) and builds dist/.
// Then: node bench/compare.mjs --rounds 3 --only pair,burst DIR/base DIR/coalesce …
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const [dirArg, ...names] = process.argv.slice(2);
if (!dirArg || names.length === 0) {
  console.error('usage: node bench/experiments/make.mjs DIR NAME…   (NAME = base or a bench/experiments/NAME.patch)');
  process.exit(2);
}
const dir = resolve(dirArg);
for (const name of names) {
  const target = join(dir, name);
  rmSync(target, { recursive: true, force: true });
  mkdirSync(join(target, 'scripts'), { recursive: true });
  for (const part of ['src', 'worker', 'bin', 'package.json', 'tsconfig.json', 'tsconfig.build.json']) cpSync(join(root, part), join(target, part), { recursive: true });
  cpSync(join(root, 'scripts/build.mjs'), join(target, 'scripts/build.mjs'));
  symlinkSync(join(root, 'node_modules'), join(target, 'node_modules'));
  if (name !== 'base') {
    const patch = join(root, 'bench/experiments', `${name}.patch`);
    if (!existsSync(patch)) throw new Error(`no ${patch}`);
    const applied = spawnSync('patch', ['-p1', '--forward', '-i', patch], { cwd: target, encoding: 'utf8' });
    if (applied.status !== 0) throw new Error(`${name}.patch does not apply to the current sources:\n${applied.stdout}${applied.stderr}`);
  }
  const built = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: target, encoding: 'utf8' });
  // The declaration step (tsc) may fail on a what-if patch; the bundles are written before it.
  if (!existsSync(join(target, 'dist/tabcast-worker.js'))) throw new Error(`${name}: build failed:\n${built.stdout}${built.stderr}`);
  console.log(`${name}: built ${target}/dist`);
}
