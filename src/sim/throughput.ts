/**
 * Throughput check (not a test): the simulator's CPU time to generate and send one answer of about 100,000 lines.
 * The client runs in a child process, so only the server's work is measured. Run: npx tsx src/sim/throughput.ts
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startSimulator } from './index.ts';

// POSTs the body and discards the answer, printing the bytes received.
const CLIENT = `
const [url, body] = process.argv.slice(1);
const req = require('node:http').request(url, { method: 'POST' }, (res) => {
  let bytes = 0;
  res.on('data', (c) => (bytes += c.length));
  res.on('end', () => console.log(bytes));
});
req.end(body);`;

const post = async (url: string, body: unknown) =>
  Number((await promisify(execFile)(process.execPath, ['-e', CLIENT, `${url}/ventas`, JSON.stringify(body)])).stdout);

const sim = await startSimulator({ seed: 1, scale: 1, now: new Date('2026-06-01T12:00:00Z') });
// SUC012, one week: about 100,000 lines at scale 1.
const body = { sucursal: 'SUC012', fecha_desde: '2026-01-12', fecha_hasta: '2026-01-18' };
await post(sim.url, { ...body, fecha_hasta: body.fecha_desde }); // warm-up: catalogue, holidays, JIT
const days = (await fetch(`${sim.url}/__sim/days?sucursal=SUC012&desde=2026-01-12&hasta=2026-01-18`).then((r) =>
  r.json(),
)) as Array<{ lineas: number }>;
const lines = days.reduce((sum, d) => sum + d.lineas, 0);
const ms = (micros: number) => (micros / 1000).toFixed(0);
// Three rounds: the first one still pays for the JIT's work on the big answer.
for (let round = 1; round <= 3; round++) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const bytes = await post(sim.url, body);
  const used = process.cpuUsage(cpu);
  const wall = performance.now() - started;
  console.log(
    `ronda ${round}: ${lines} líneas, ${(bytes / 1e6).toFixed(1)} MB: ` +
      `CPU del simulador ${ms(used.user + used.system)} ms (usuario ${ms(used.user)}, sistema ${ms(used.system)}), ` +
      `reloj ${wall.toFixed(0)} ms`,
  );
}
await sim.close();
