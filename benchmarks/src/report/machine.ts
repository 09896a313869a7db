/** Details of the machine a benchmark run is on, for the report's header. */
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import { median } from '../harness.ts';
import type { Machine } from './markdown.ts';

export function osName(): string {
  try {
    const release = readFileSync('/etc/os-release', 'utf8');
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(release)?.[1];
    if (pretty) return pretty;
  } catch {
    // not Linux, or no os-release: fall back to the kernel's name
  }
  return `${os.type()} ${os.arch()}`;
}

/** The static part of the machine, plus the load average now. */
export function machineNow(): Omit<Machine, 'loadEnd' | 'loadDuring'> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() || 'unknown',
    cores: cpus.length,
    memoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(2)),
    node: process.version,
    os: osName(),
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    loadStart: os.loadavg(),
  };
}

/** Samples the 1-minute load average every `everyMs` until stopped. */
export function sampleLoad(everyMs = 5000): () => Machine['loadDuring'] {
  const samples: number[] = [os.loadavg()[0] ?? 0];
  const timer = setInterval(() => samples.push(os.loadavg()[0] ?? 0), everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    samples.push(os.loadavg()[0] ?? 0);
    return { min: Math.min(...samples), median: median(samples), max: Math.max(...samples) };
  };
}
