// How busy the machine was with work that is not this benchmark's: every few seconds, the CPU time
// of all processes (/proc/stat) minus that of this process and its descendants (Chromium, tabcast
// serve). The 1-minute load average cannot tell the two apart. Linux only; elsewhere it reports
// the load average alone.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

const HZ = 100; // USER_HZ on Linux

function totalBusyJiffies() {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = cpu[3] + (cpu[4] ?? 0); // idle + iowait
  return cpu.reduce((a, b) => a + b, 0) - idle;
}

/** CPU time of `root` and all its descendants (and of their reaped children), in jiffies. */
function treeJiffies(root) {
  const parent = new Map();
  const used = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(name), Number(fields[1]));
      // utime + stime, plus cutime + cstime: the time of children it has reaped (Chromium's
      // zygote reaps the renderers of closed tabs, node reaps tabcast serve)
      used.set(Number(name), Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]));
    } catch {
      // the process ended meanwhile
    }
  }
  let sum = 0;
  for (const [pid, jiffies] of used) {
    for (let p = pid; p > 1; p = parent.get(p) ?? 0) {
      if (p === root) {
        sum += jiffies;
        break;
      }
    }
  }
  return sum;
}

/** Starts sampling; `stop()` returns { samples, foreignCores: {mean, max}, load1: {start, max, end} }. */
export function watchMachineLoad(intervalMs = 5000) {
  const linux = existsSync('/proc/stat');
  const t0 = Date.now();
  const samples = [];
  let last = linux ? { at: Date.now(), total: totalBusyJiffies(), ours: treeJiffies(process.pid) } : undefined;
  const sample = () => {
    const s = { t: Math.round((Date.now() - t0) / 1000), load1: os.loadavg()[0] };
    if (linux) {
      const now = { at: Date.now(), total: totalBusyJiffies(), ours: treeJiffies(process.pid) };
      const seconds = (now.at - last.at) / 1000;
      if (seconds > 0) {
        s.busyCores = (now.total - last.total) / HZ / seconds;
        s.oursCores = Math.max(0, (now.ours - last.ours) / HZ / seconds);
        s.foreignCores = Math.max(0, s.busyCores - s.oursCores);
      }
      last = now;
    }
    samples.push(s);
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      const foreign = samples.map((s) => s.foreignCores).filter(Number.isFinite);
      const loads = samples.map((s) => s.load1);
      return {
        samples,
        foreignCores: foreign.length ? { mean: foreign.reduce((a, b) => a + b, 0) / foreign.length, max: Math.max(...foreign) } : undefined,
        load1: { start: loads[0], max: Math.max(...loads), end: loads.at(-1) },
      };
    },
  };
}
