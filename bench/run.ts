import type { Benchmark } from './lib/benchmark';
import { postgresVersion } from './lib/bench-db';
import { formatTable, machineString, toRow, writeResults } from './lib/results';

/** Every benchmark by name; each is loaded only when it runs. */
const benchmarks: Record<string, () => Promise<{ default: Benchmark }>> = {
  ledger: () => import('./ledger'),
  pools: () => import('./pools'),
  http: () => import('./http'),
  allocation: () => import('./allocation'),
  analytics: () => import('./analytics'),
  spa: () => import('./spa'),
  live: () => import('./live'),
  'key-auth': () => import('./key-auth'),
};

const usage = `Usage: npm run bench [-- NAME...]
Benchmarks: ${Object.keys(benchmarks).join(', ')}
Each prints a table and writes bench/results/NAME.json.`;

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const unknown = argv.filter((n) => !(n in benchmarks));
  if (unknown.length) {
    process.stderr.write(`Unknown benchmark ${unknown.join(', ')}\n${usage}\n`);
    return 2;
  }
  const names = argv.length ? argv : Object.keys(benchmarks);
  const machine = machineString(await postgresVersion());
  process.stdout.write(`machine: ${machine}\n`);
  for (const name of names) {
    const bench = (await benchmarks[name]!()).default;
    process.stdout.write(`\n== ${bench.name}: ${bench.description}\n`);
    const date = new Date().toISOString();
    const cases = await bench.run();
    process.stdout.write(`\n${formatTable(cases)}\n`);
    const file = writeResults({ name: bench.name, machine, date, cases: cases.map(toRow) });
    process.stdout.write(`wrote ${file}\n`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // drizzle wraps the database's own error as the cause: print it, or the failure says only "Failed query".
    const cause = err instanceof Error && err.cause instanceof Error ? `\ncaused by: ${err.cause.message}` : '';
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}${cause}\n`);
    process.exit(1);
  },
);
