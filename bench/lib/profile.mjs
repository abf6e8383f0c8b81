// Turns a CDP Profiler profile into "what costs what": self time per source module, mapped back
// through the bundle's source map (dist/*.js.map) to src/… files and packages in node_modules.
import { readFileSync, existsSync } from 'node:fs';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Map([...B64].map((c, i) => [c, i]));

/** Decodes one source-map segment (base64 VLQ) into its numbers. */
function decodeSegment(text) {
  const out = [];
  let value = 0;
  let shift = 0;
  for (const ch of text) {
    const digit = B64_INDEX.get(ch);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
    } else {
      out.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return out;
}

/** Parses a source map v3 into per-line sorted segments [genCol, source, line, col]. */
export function loadSourceMap(file) {
  if (!existsSync(file)) return undefined;
  const map = JSON.parse(readFileSync(file, 'utf8'));
  const lines = [];
  let source = 0;
  let line = 0;
  let col = 0;
  for (const text of map.mappings.split(';')) {
    const segs = [];
    let genCol = 0;
    for (const seg of text.split(',')) {
      if (!seg) continue;
      const f = decodeSegment(seg);
      genCol += f[0];
      if (f.length >= 4) {
        source += f[1];
        line += f[2];
        col += f[3];
        segs.push([genCol, source, line, col]);
      }
    }
    lines.push(segs);
  }
  return { sources: map.sources, sourcesContent: map.sourcesContent ?? [], lines };
}

/** Original {source, line} of a 0-based generated position, or undefined. */
function lookup(sm, line, column) {
  const segs = sm.lines[line];
  if (!segs || segs.length === 0) return undefined;
  let lo = 0;
  let hi = segs.length - 1;
  if (segs[0][0] > column) return undefined;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (segs[mid][0] <= column) lo = mid;
    else hi = mid - 1;
  }
  const [, s, l] = segs[lo];
  return { source: sm.sources[s], sourceIndex: s, line: l };
}

/** A readable module name: `src/hub/hub.ts`, `worker/…`, or the npm package for node_modules paths. */
function moduleName(source) {
  const clean = source.replace(/^(\.\.\/)+/, '').replace(/^\.\//, '');
  const nm = clean.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = clean.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  return clean;
}

/**
 * Self time of a CDP profile grouped by module and by function, in ms.
 * `maps` maps a script URL suffix (e.g. 'tabcast-worker.js') to a loaded source map.
 */
export function breakdown(profile, maps) {
  const self = new Map();
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  const byModule = new Map();
  const byFunction = new Map();
  let total = 0;
  for (const [id, ms] of self) {
    const frame = nodes.get(id).callFrame;
    total += ms;
    let mod;
    let fn;
    const url = frame.url ?? '';
    const mapKey = [...maps.keys()].find((k) => url.endsWith(k));
    if (!url) {
      mod = frame.functionName ? `(${frame.functionName.replace(/^\(|\)$/g, '')})` : '(native)';
      fn = mod;
    } else if (mapKey && maps.get(mapKey)) {
      const sm = maps.get(mapKey);
      const pos = lookup(sm, frame.lineNumber, frame.columnNumber);
      mod = pos ? moduleName(pos.source) : mapKey;
      const text = pos ? (sm.sourcesContent[pos.sourceIndex] ?? '').split('\n')[pos.line]?.trim().slice(0, 70) : '';
      fn = pos ? `${mod}:${pos.line + 1} ${text}` : `${mapKey} ${frame.functionName}`;
    } else {
      mod = url.replace(/^.*\//, '');
      fn = `${mod} ${frame.functionName || '(anonymous)'}:${frame.lineNumber + 1}`;
    }
    byModule.set(mod, (byModule.get(mod) ?? 0) + ms);
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
  }
  const sorted = (m) => [...m].sort((a, b) => b[1] - a[1]).map(([name, ms]) => ({ name, ms, share: total > 0 ? ms / total : 0 }));
  return { totalMs: total, modules: sorted(byModule), functions: sorted(byFunction).slice(0, 25) };
}

/**
 * Minified bytes of a bundle attributed to source modules through its source map: each mapped
 * segment owns the generated text up to the next segment. Returns [{ name, bytes }], largest first.
 */
export function bytesBySource(codeFile, mapFile) {
  const sm = loadSourceMap(mapFile);
  if (!sm || !existsSync(codeFile)) return [];
  const lines = readFileSync(codeFile, 'utf8').split('\n');
  const sizes = new Map();
  let unmapped = 0;
  lines.forEach((text, i) => {
    const segs = sm.lines[i] ?? [];
    if (segs.length === 0) {
      unmapped += text.length + 1;
      return;
    }
    unmapped += segs[0][0];
    segs.forEach((seg, k) => {
      const end = k + 1 < segs.length ? segs[k + 1][0] : text.length + 1;
      const name = moduleName(sm.sources[seg[1]]);
      sizes.set(name, (sizes.get(name) ?? 0) + (end - seg[0]));
    });
  });
  if (unmapped > 0) sizes.set('(unmapped)', unmapped);
  return [...sizes].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

/** What gzip saves when the text of the given source modules is cut out of a bundle (their marginal gzip cost). */
export function marginalGzip(codeFile, mapFile, names, gzip) {
  const sm = loadSourceMap(mapFile);
  if (!sm) return NaN;
  const code = readFileSync(codeFile, 'utf8');
  const lines = code.split('\n');
  const kept = lines.map((text, i) => {
    const segs = sm.lines[i] ?? [];
    let out = segs.length ? text.slice(0, segs[0][0]) : text;
    segs.forEach((seg, k) => {
      const end = k + 1 < segs.length ? segs[k + 1][0] : text.length;
      if (!names.includes(moduleName(sm.sources[seg[1]]))) out += text.slice(seg[0], end);
    });
    return out;
  });
  return gzip(code) - gzip(kept.join('\n'));
}
