#!/usr/bin/env node
// The `tabcast` command. Its code is src/server/cli.ts, bundled by `npm run build` into dist/.
let cli;
try {
  cli = await import('../dist/tabcast-server.js');
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('tabcast-server.js')) {
    process.stderr.write('tabcast: dist/tabcast-server.js is missing; run `npm run build` first\n');
    process.exit(1);
  }
  throw error;
}
process.exit(await cli.main(process.argv.slice(2)));
