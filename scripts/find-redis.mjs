// Finds redis-server for the cluster tests (HUB-CLUSTER): REDIS_SERVER, PATH, Debian's path.
// When none is found and we are root with apt, installs Debian's; else explains the one command to run.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

function works(path) {
  return spawnSync(path, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Returns the path of a usable redis-server, installing Debian's when possible; exits with advice otherwise. */
export function findRedisServer() {
  for (const c of [process.env.REDIS_SERVER, 'redis-server', '/usr/bin/redis-server', '/usr/local/bin/redis-server']) if (c && works(c)) return c;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && existsSync('/usr/bin/apt-get')) {
    console.log("redis-server not found: installing Debian's redis-server (apt-get)…");
    const r = spawnSync('bash', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server'], { stdio: 'inherit' });
    if (r.status === 0 && works('/usr/bin/redis-server')) return '/usr/bin/redis-server';
  }
  console.error('No redis-server found for the cluster tests. Install it with:\n\n  sudo apt-get update && sudo apt-get install -y redis-server\n\nor set REDIS_SERVER to a redis-server executable.');
  process.exit(2);
}
