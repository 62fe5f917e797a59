import { parseArgs } from 'node:util';
import { runSoak } from './run';

/** `npm run soak -- --minutes N [--seed S] [--ports 3270,3271] [--rate 5]`: exits 1 on a violated invariant. */
const { values } = parseArgs({
  options: { minutes: { type: 'string', default: '10' }, seed: { type: 'string' }, ports: { type: 'string', default: '3270,3271' }, rate: { type: 'string', default: '5' } },
});
const seed = values.seed ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const ports = values.ports.split(',').map(Number) as [number, number];
const result = await runSoak({ minutes: Number(values.minutes), seed, ports, opsPerSecond: Number(values.rate) });
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
if (result.error) {
  process.stderr.write(`\nTHE SOAK STOPPED (harness error, seed ${seed}; logs: ${result.logs}):\n${result.error}\n`);
  process.exit(2);
}
if (result.violations.length) {
  process.stderr.write(`\nINVARIANT VIOLATED — replay with: npm run soak -- --minutes ${values.minutes} --seed ${seed}\n`);
  for (const v of result.violations) process.stderr.write(`${v.check}: ${JSON.stringify(v.rows, null, 2)}\n`);
  process.exit(1);
}
process.exit(0);
