/**
 * The `tabcast` command line. `npm run build` bundles this file to dist/tabcast-server.js, which
 * bin/tabcast.js imports; nothing runs on import.
 */
import { resolve } from 'node:path';
import { lmdbStorage } from '../adapters/lmdb-storage.js';
import { memoryStorage } from '../adapters/memory-storage.js';
import { parseCommandLine, USAGE, UsageError } from './args.js';
import { startServer } from './index.js';
import { readUsersFile } from './users-file.js';

/** Where the command writes and what stops it; the default is the real process. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** Resolves when the server should stop (SIGINT or SIGTERM for the real process). */
  stopRequested(): Promise<void>;
}

/** The exit code of `serve --redis` when its replica missed changes of the shared log (docs/cluster.md). */
const DIVERGED_EXIT_CODE = 1;

/** How long shutdown may take before the process leaves anyway (HUB-SERVE-03 allows 3 s). */
const SHUTDOWN_BUDGET_MS = 2500;

/** Runs the command line; resolves with the process exit code once the command is over. */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let command;
  try {
    command = parseCommandLine(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`tabcast: ${error.message}`);
    io.err(USAGE);
    return 2;
  }
  if (command.command === 'help') {
    io.out(USAGE);
    return 0;
  }
  const args = command.args;
  let server;
  try {
    const users = args.usersFile === undefined ? undefined : await readUsersFile(args.usersFile);
    server = await startServer({
      host: args.host,
      port: args.port,
      path: args.path,
      ackTimeoutMs: args.ackTimeoutMs,
      heartbeatMs: args.heartbeatMs,
      users,
      storage: args.dataDir === undefined ? memoryStorage() : lmdbStorage(resolve(args.dataDir)),
      bounds: { maxOpenContexts: args.maxOpenContexts, maxContentBytes: args.maxContentBytes, maxTopics: args.maxTopics, idleTopicMs: args.idleTopicMs, connectTimeoutMs: args.connectTimeoutMs },
      allowOrigins: args.allowOrigins,
      maxConnections: args.maxConnections,
      allowHosts: args.allowHosts,
      maxConnectionsPerIp: args.maxConnectionsPerIp,
      maxUnconnectedPerIp: args.maxUnconnectedPerIp,
      publicUrl: args.publicUrl,
      ...(args.websub ? { websub: { allow: args.websubAllow ?? [] } } : {}),
      ...(args.redis === undefined ? {} : { redis: args.redis, instanceId: args.instanceId }),
      log: io.err,
    });
  } catch (error) {
    io.err(`tabcast: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  io.out(`FHIRcast hub listening on ${server.url}`);
  if (server.publicUrl !== server.url) io.out(`clients reach it as hub.url ${server.publicUrl}`);
  if (server.websub) io.out(`WebSub callbacks on: the hub calls back only ${server.websub.allowed}`);
  // In cluster mode a replica that missed changes of the log stops the command: a supervisor
  // restarts it, and a fresh start reloads the cluster's state from Redis.
  const stopped = io.stopRequested().then(() => false);
  const diverged = await (server.diverged ? Promise.race([stopped, server.diverged.then(() => true)]) : stopped);
  if (diverged) io.err(`tabcast: exiting with code ${DIVERGED_EXIT_CODE} so that this instance is restarted; it reloads the cluster's state from Redis`);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const finished = await Promise.race([
    server.close().then(() => true),
    new Promise<boolean>((done) => (timer = setTimeout(() => done(false), SHUTDOWN_BUDGET_MS))),
  ]);
  clearTimeout(timer);
  if (!finished) io.err('tabcast: shutdown took too long; exiting anyway');
  return diverged ? DIVERGED_EXIT_CODE : 0;
}

function processIo(): CliIo {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    stopRequested: () =>
      new Promise<void>((done) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          done();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      }),
  };
}
