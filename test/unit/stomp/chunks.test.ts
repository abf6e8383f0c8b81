/**
 * The built worker's lazy chunks (tabcast-wire.js, tabcast-bridge.js, tabcast-stomp.js) must never
 * import the worker entry: a worker started from a URL with a query (data-worker-url, the e2e tests)
 * would then run a second copy of itself. Found when the STOMP door first imported hub/ids.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DIST_MISSING, ROOT } from '../server/support.js';

describe.skipIf(DIST_MISSING)('HUB-STOMP-01 the built chunks (needs npm run build)', () => {
  for (const chunk of ['tabcast-wire.js', 'tabcast-bridge.js', 'tabcast-stomp.js']) {
    it(`HUB-STOMP-01 ${chunk} imports only tabcast-core.js and tabcast-stomp.js, never the worker entry`, () => {
      const code = readFileSync(`${ROOT}dist/${chunk}`, 'utf8');
      const imports = [...code.matchAll(/(?:from|import)\s*\(?\s*["']\.\/([\w.-]+\.js)["']/g)].map((m) => m[1]);
      expect(imports.filter((f) => f !== 'tabcast-core.js' && f !== 'tabcast-stomp.js')).toEqual([]);
    });
  }
});
