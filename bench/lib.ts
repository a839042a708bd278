/** What every part of the benchmark shares: progress, databases, child processes, machine facts. */
import { execFile, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RSS_PRELOAD = fileURLToPath(new URL('./rss-preload.mjs', import.meta.url));

const started = performance.now();

/** Progress goes to stderr, with the time since the benchmark began. */
export function progress(message: string): void {
  const s = ((performance.now() - started) / 1000).toFixed(0).padStart(4);
  process.stderr.write(`[${s} s] ${message}\n`);
}

export function elapsedSeconds(): number {
  return (performance.now() - started) / 1000;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

// ------------------------------------------------------------------------------------------------- databases

/** The server's URL with another database name. */
export function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Drops and creates `database` on the server of `serverUrl` (connecting to its `postgres` database). */
export async function recreateDatabase(serverUrl: string, database: string): Promise<string> {
  const admin = new pg.Client({ connectionString: databaseUrl(serverUrl, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${database}`);
  } finally {
    await admin.end();
  }
  return databaseUrl(serverUrl, database);
}

/**
 * The database created once, then emptied by dropping its schema: DROP DATABASE waits for every backend of the
 * server to acknowledge it, and on a shared server one busy elsewhere can hold it for minutes.
 */
export async function emptyDatabase(serverUrl: string, database: string): Promise<string> {
  const url = databaseUrl(serverUrl, database);
  const admin = await connect(databaseUrl(serverUrl, 'postgres'));
  try {
    const { rows } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (rows.length === 0) return await recreateDatabase(serverUrl, database);
  } finally {
    await admin.end();
  }
  const client = await connect(url);
  try {
    await client.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
  } finally {
    await client.end();
  }
  return url;
}

export async function dropDatabase(serverUrl: string, database: string): Promise<void> {
  const admin = new pg.Client({ connectionString: databaseUrl(serverUrl, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** A plain pg client, for what the tool's Db interface does not do (WAL positions, EXPLAIN, server facts). */
export async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

// ------------------------------------------------------------------------------------------------- children

export interface ChildResult {
  stdout: string;
  stderr: string;
  code: number | null;
  /** Peak resident set of the child, bytes (its own `process.resourceUsage().maxRSS`, read as it exits). */
  maxRssBytes: number | null;
}

/**
 * Runs `node [--import rss-preload] script args` and collects its output and its peak RSS. The preload writes the
 * child's own maxRSS to a file when it exits: exact, and independent of how the script is written.
 */
export function runNode(
  script: string,
  args: string[],
  options: { env?: Record<string, string | undefined>; cwd?: string } = {},
): Promise<ChildResult> {
  const rssFile = `/tmp/ventas-bench-rss-${process.pid}-${Math.random().toString(36).slice(2)}`;
  return new Promise((resolve, reject) => {
    // TypeScript children (bench/*.ts) run through tsx, as bin/ventas-dev does.
    const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
    const child = spawn(process.execPath, ['--import', RSS_PRELOAD, ...loader, script, ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env, VENTAS_BENCH_RSS_FILE: rssFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      let maxRssBytes: number | null;
      try {
        maxRssBytes = Number(readFileSync(rssFile, 'utf8')) * 1024;
        rmSync(rssFile, { force: true });
      } catch {
        maxRssBytes = null;
      }
      resolve({ stdout, stderr, code, maxRssBytes });
    });
  });
}

// ------------------------------------------------------------------------------------------------- machine

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  freeMemoryGbAtStart: number;
  node: string;
  postgres: string;
  /** Server settings that bound write speed: the defaults unless the server was tuned. */
  postgresSettings: Record<string, string>;
  pglite: string;
  os: string;
  loadAverageAtStart: number[];
  loadAverageAtEnd?: number[];
}

function osName(): Promise<string> {
  return new Promise((resolve) => {
    execFile('uname', ['-sr'], (error, stdout) => resolve(error ? process.platform : stdout.trim()));
  });
}

export async function machineInfo(serverUrl: string): Promise<MachineInfo> {
  const client = await connect(databaseUrl(serverUrl, 'postgres'));
  let postgres: string;
  const postgresSettings: Record<string, string> = {};
  try {
    postgres = (
      (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? '?'
    ).split(' ')[0]!;
    const { rows } = await client.query<{ name: string; setting: string }>(
      `SELECT name, current_setting(name) AS setting FROM pg_settings
       WHERE name IN ('shared_buffers', 'max_wal_size', 'work_mem', 'synchronous_commit', 'max_parallel_workers_per_gather')`,
    );
    for (const row of rows) postgresSettings[row.name] = row.setting;
  } finally {
    await client.end();
  }
  const pglite = (
    JSON.parse(readFileSync(`${ROOT}node_modules/@electric-sql/pglite/package.json`, 'utf8')) as { version: string }
  ).version;
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? '?',
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    freeMemoryGbAtStart: Math.round((freemem() / 2 ** 30) * 10) / 10,
    node: process.version,
    postgres,
    postgresSettings,
    pglite,
    os: await osName(),
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}
