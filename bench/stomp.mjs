// `node bench/stomp.mjs [--samples N] [--warmup N]`: the STOMP round trip as a ratio to the STU3
// WebSocket's, in the page and against `tabcast serve`, in one run (issue 13). Needs `npm run build`.
// `npm run bench` runs the same pass as its `stomp` section.
import { fileURLToPath } from 'node:url';
import { startBenchServer } from './server.mjs';
import { launch } from './lib/browser.mjs';
import { startServe } from './lib/server-path.mjs';
import { stompAgainstServe, stompInPage, stompSummary } from './lib/stomp-pass.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const cfg = { samples: option('--samples', 300), warmup: option('--warmup', 50) };

const server = await startBenchServer();
const browser = await launch();
const serve = await startServe(root, ['--allow-origin', server.origin]);
try {
  const result = { config: cfg, inPage: await stompInPage(browser, server.origin, cfg), serve: await stompAgainstServe(serve.hubUrl, cfg) };
  console.log(stompSummary(result));
} finally {
  await browser.close();
  await server.close();
  await serve.close();
}
