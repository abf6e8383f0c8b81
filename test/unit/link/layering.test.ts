// The page (src/client) and the host (src/host) are two peers of one protocol (src/link):
// neither may import the other, so the contract cannot drift into one side (issue 18).
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sourceFiles(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );
}

/** Folders under src/ that a file imports, resolved from its relative import specifiers. */
function importedFolders(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:import|export)[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]);
  return specs.map((s) => relative(join(root, 'src'), resolve(file, '..', s!)).split('/')[0]!);
}

describe('layering', () => {
  for (const [from, forbidden] of [
    ['client', 'host'],
    ['host', 'client'],
    ['link', 'client'],
    ['link', 'host'],
  ] as const) {
    it(`no file in src/${from} imports src/${forbidden}`, () => {
      const offenders = sourceFiles(join(root, 'src', from)).filter((f) => importedFolders(f).includes(forbidden));
      expect(offenders.map((f) => relative(root, f))).toEqual([]);
    });
  }

  it('the import reader sees a cross-layer import when there is one', () => {
    // Guards the test itself: src/client does import src/link.
    const seen = sourceFiles(join(root, 'src', 'client')).some((f) => importedFolders(f).includes('link'));
    expect(seen).toBe(true);
  });
});
