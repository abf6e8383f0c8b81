// `npm run demo` (scripts/demo.mjs): prints the launcher URL, serves the demo and the built library,
// starts `tabcast serve` with --with-remote, and stops everything on Ctrl-C (SIGINT).
import { test, expect } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The first connect of a browser context starts the SharedWorker and opens IndexedDB: allow for a busy machine. */
const CONNECT_MS = 15_000;

const root = fileURLToPath(new URL('../..', import.meta.url));
const serverBuilt = existsSync(`${root}/dist/tabcast-server.js`) && existsSync(`${root}/bin/tabcast.js`);

/** Runs scripts/demo.mjs and resolves with its child and its output once `pattern` appears (or it exits). */
function runDemo(args: string[], pattern: RegExp): Promise<{ child: ChildProcess; output: string; match: RegExpExecArray | null; code: number | null }> {
  // --no-build: the suite runs after `npm run build`; a build here would empty dist/ under the other tests.
  const child = spawn(process.execPath, [`${root}/scripts/demo.mjs`, '--no-build', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve) => {
    const check = () => {
      const match = pattern.exec(output);
      if (match) resolve({ child, output, match, code: null });
    };
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      check();
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => resolve({ child, output, match: pattern.exec(output), code }));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

test('npm run demo prints the launcher URL, serves the demo, and Ctrl-C stops it', async ({ page }) => {
  const args = ['--port', '0', ...(serverBuilt ? ['--with-remote'] : [])];
  const pattern = serverBuilt ? /remote hub \(tabcast serve\): (\S+)/ : /tabcast demo on (\S+)/;
  const { child, output } = await runDemo(args, pattern);
  try {
    const url = /tabcast demo on (http:\/\/127\.0\.0\.1:\d+\/\S*)/.exec(output)?.[1];
    expect(url, output).toBeTruthy();
    const origin = new URL(url!).origin;
    for (const path of ['/', '/demo/worklist/', '/demo/viewer/', '/demo/reporting/', '/demo/inspector/', '/demo/side-by-side/', '/tabcast/tabcast.iife.js', '/tabcast/tabcast.js']) {
      expect((await fetch(`${origin}${path}`)).status, path).toBe(200);
    }
    await page.goto(url!);
    await expect(page.locator('#status')).toHaveText(/^Session /, { timeout: CONNECT_MS });
    if (serverBuilt) {
      const hubUrl = /remote hub \(tabcast serve\): (\S+)/.exec(output)![1]!;
      expect(new URL(url!).searchParams.get('remote')).toBe(hubUrl);
      await expect(page.locator('#remote')).toHaveText(hubUrl);
      expect((await fetch(`${hubUrl}/.well-known/fhircast-configuration`)).status).toBe(200);
      child.kill('SIGINT');
      expect(await exited(child)).toBe(0);
      await expect(fetch(`${hubUrl}/.well-known/fhircast-configuration`)).rejects.toThrow();
    } else {
      child.kill('SIGINT');
      expect(await exited(child)).toBe(0);
    }
    await expect(fetch(`${origin}/`)).rejects.toThrow();
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
  }
});

test('npm run demo explains a busy port', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
  const port = (blocker.address() as { port: number }).port;
  try {
    const { code, output } = await runDemo(['--port', String(port)], /$^/);
    expect(code).toBe(1);
    expect(output).toContain(`port ${port} is in use`);
  } finally {
    blocker.close();
  }
});
