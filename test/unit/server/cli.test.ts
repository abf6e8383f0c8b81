import { createServer, type Server } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCommandLine, UsageError } from '../../../src/server/args.js';
import { main, type CliIo } from '../../../src/server/cli.js';
import { LISTENING } from './support.js';

/** A CliIo that records lines, knows when the listening line is out, and stops when told. */
class RecordingIo implements CliIo {
  outLines: string[] = [];
  errLines: string[] = [];
  readonly listening: Promise<string>;
  private heard!: (url: string) => void;
  private release!: () => void;
  private readonly stopped = new Promise<void>((resolve) => (this.release = resolve));

  constructor() {
    this.listening = new Promise((resolve) => (this.heard = resolve));
  }
  out = (line: string) => {
    this.outLines.push(line);
    const m = LISTENING.exec(line);
    if (m) this.heard(m[1]!);
  };
  err = (line: string) => {
    this.errLines.push(line);
  };
  stopRequested = () => this.stopped;
  stop() {
    this.release();
  }
}
const recordingIo = () => new RecordingIo();

const serve = (...flags: string[]) => parseCommandLine(['serve', ...flags]);
const argsOf = (...flags: string[]) => {
  const c = serve(...flags);
  if (c.command !== 'serve') throw new Error('expected serve');
  return c.args;
};

describe('HUB-SERVE command line of tabcast serve', () => {
  it('HUB-SERVE-02 defaults are --host 127.0.0.1 --port 5200 --path /fhircast/hub (and 10 s ack timeout and heartbeat)', () => {
    expect(argsOf()).toEqual({ host: '127.0.0.1', port: 5200, path: '/fhircast/hub', ackTimeoutMs: 10_000, heartbeatMs: 10_000, allowOrigins: [] });
  });

  it('HUB-SERVE-02 each flag overrides its default, as "--flag value" or "--flag=value"', () => {
    const a = argsOf('--host', '0.0.0.0', '--port=0', '--path', '/hub/', '--heartbeat-ms', '0', '--max-connections', '50');
    expect(a.host).toBe('0.0.0.0');
    expect(a.port).toBe(0);
    expect(a.path).toBe('/hub');
    expect(a.heartbeatMs).toBe(0);
    expect(a.maxConnections).toBe(50);
  });

  it('HUB-SERVE-05 HUB-TOLERANT-08 --ack-timeout-ms sets the ack timeout, 0 included', () => {
    expect(argsOf('--ack-timeout-ms', '250').ackTimeoutMs).toBe(250);
    expect(argsOf('--ack-timeout-ms', '0').ackTimeoutMs).toBe(0);
  });

  it('HUB-SERVE-06 --users, --data and a repeatable --allow-origin are accepted', () => {
    const a = argsOf('--users', 'users.json', '--data', 'state', '--allow-origin', 'http://a.example', '--allow-origin=https://b.example:8443');
    expect(a.usersFile).toBe('users.json');
    expect(a.dataDir).toBe('state');
    expect(a.allowOrigins).toEqual(['http://a.example', 'https://b.example:8443']);
  });

  it('--public-url sets hub.url as clients reach it, and the path served follows it', () => {
    const a = argsOf('--public-url', 'https://hub.example.org/fhircast/hub/');
    expect(a.publicUrl).toBe('https://hub.example.org/fhircast/hub');
    expect(a.path).toBe('/fhircast/hub');
    expect(argsOf('--public-url=https://hub.example.org/cast', '--path', '/cast').path).toBe('/cast');
  });

  const bad: Array<[string, string[], RegExp]> = [
    ['a public URL that is not http(s)', ['serve', '--public-url', 'ftp://hub.example.org/hub'], /--public-url/],
    ['a public URL with a query', ['serve', '--public-url', 'https://hub.example.org/hub?x=1'], /--public-url/],
    ['a public URL whose path differs from --path', ['serve', '--path', '/a', '--public-url', 'https://hub.example.org/b'], /--path \/a and the path of --public-url/],
    ['an unknown flag', ['serve', '--verbose'], /unknown option --verbose/],
    ['a flag without its value', ['serve', '--port'], /--port needs a value/],
    ['a port that is not a number', ['serve', '--port', 'eighty'], /--port/],
    ['a port out of range', ['serve', '--port', '70000'], /--port/],
    ['a negative ack timeout', ['serve', '--ack-timeout-ms', '-5'], /--ack-timeout-ms/],
    ['a path that is not absolute', ['serve', '--path', 'fhircast'], /--path/],
    ['an origin with a path', ['serve', '--allow-origin', 'https://a.example/app'], /--allow-origin/],
    ['a wildcard origin', ['serve', '--allow-origin', '*'], /--allow-origin/],
    ['zero max connections', ['serve', '--max-connections', '0'], /--max-connections/],
    ['an unknown command', ['start'], /unknown command/],
    ['no command', [], /no command/],
    ['a stray argument', ['serve', 'now'], /unexpected argument/],
  ];
  for (const [what, argv, message] of bad) {
    it(`HUB-SERVE-07 ${what} is a usage error naming the problem`, () => {
      expect(() => parseCommandLine(argv)).toThrow(UsageError);
      expect(() => parseCommandLine(argv)).toThrow(message);
    });
  }

  it('HUB-SERVE-07 main() reports a usage error on stderr with a non-zero code and never listens', async () => {
    const io = recordingIo();
    const code = await main(['serve', '--port', '0', '--bogus'], io);
    expect(code).not.toBe(0);
    expect(io.errLines.join('\n')).toMatch(/unknown option --bogus/);
    expect(io.outLines.join('\n')).not.toMatch(LISTENING);
  });

  it('HUB-SERVE-07 main() with a port in use exits non-zero with a message and no listening line', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as { port: number }).port;
      const io = recordingIo();
      const code = await main(['serve', '--port', String(port)], io);
      expect(code).not.toBe(0);
      expect(io.errLines.join('\n')).toMatch(new RegExp(`port ${port}.*in use`));
      expect(io.outLines.join('\n')).not.toMatch(LISTENING);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('HUB-SERVE-01 HUB-SERVE-03 main() prints exactly one listening line and returns 0 once asked to stop', async () => {
    const io = recordingIo();
    const running = main(['serve', '--port', '0', '--path', '/x/hub'], io);
    const url = await io.listening;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/x\/hub$/);
    expect((await fetch(`${url}/.well-known/fhircast-configuration`)).status).toBe(200);
    io.stop();
    expect(await running).toBe(0);
    expect(io.outLines).toEqual([`FHIRcast hub listening on ${url}`]);
  });

  it('HUB-SERVE-01 --help prints the usage and exits 0 without listening', async () => {
    const io = recordingIo();
    expect(await main(['serve', '--help'], io)).toBe(0);
    expect(io.outLines.join('\n')).toMatch(/--allow-origin/);
    expect(io.outLines.join('\n')).not.toMatch(LISTENING);
  });
});

describe('HUB-ID-09 users file checks before listening', () => {
  let dir: string;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const cases: Array<[string, string, RegExp]> = [
    ['not JSON', '{"secret": "hunter2-secret", "groups": [', /not valid JSON/],
    ['without a secret', '{"groups": [["a"]]}', /secret/],
    ['with groups that are not lists', '{"secret": "hunter2-secret", "groups": ["a", "b"]}', /groups/],
    ['with a user in two groups', '{"secret": "hunter2-secret", "groups": [["gkustas61", "georgek"], ["georgek"]]}', /georgek.*two groups/],
  ];
  for (const [what, content, message] of cases) {
    it(`HUB-ID-09 a users file ${what} stops main() before it listens, non-zero, without echoing the secret`, async () => {
      dir = await mkdtemp(join(tmpdir(), 'tabcast-users-'));
      const file = join(dir, 'users.json');
      await writeFile(file, content);
      const io = recordingIo();
      const code = await main(['serve', '--port', '0', '--users', file], io);
      expect(code).not.toBe(0);
      const err = io.errLines.join('\n');
      expect(err).toMatch(message);
      expect(err).not.toContain('hunter2-secret');
      expect(io.outLines.join('\n')).not.toMatch(LISTENING);
    });
  }

  it('HUB-ID-09 a missing users file stops main() with a message naming it', async () => {
    const io = recordingIo();
    expect(await main(['serve', '--port', '0', '--users', '/nonexistent/users.json'], io)).not.toBe(0);
    expect(io.errLines.join('\n')).toMatch(/\/nonexistent\/users\.json/);
  });
});
