import type { CaseReport } from './results';

/** A benchmark prints its progress as it goes and returns its cases; bench/run.ts writes the file. */
export type Benchmark = {
  name: string;
  description: string;
  run: () => Promise<CaseReport[]>;
};

export const log = (line: string) => process.stdout.write(`${line}\n`);

/** A positive integer from the environment, or the default. */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} expects a positive whole number (got "${raw}")`);
  return n;
}

/** A comma-separated list of whole numbers from the environment, each at least `min` (BENCH_CLIENTS=16,64). */
export function envInts(name: string, fallback: string, min: number): number[] {
  return (process.env[name] ?? fallback).split(',').map((c) => {
    const n = Number(c);
    if (!Number.isInteger(n) || n < min) throw new Error(`${name}: ${c} is not a whole number of at least ${min}`);
    return n;
  });
}
