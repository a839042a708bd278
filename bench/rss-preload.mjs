// Loaded with `node --import` into a benchmarked child: writes its peak resident set (KiB) when it exits.
// VmHWM, not resourceUsage().maxRSS: Linux carries into maxRSS the RSS of the image before exec, i.e. of the
// forked copy of the parent, which would count the benchmark's own memory against the child.
import { readFileSync, writeFileSync } from 'node:fs';
import process from 'node:process';

function peakKib() {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]);
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS;
}

const file = process.env.VENTAS_BENCH_RSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(peakKib())));
