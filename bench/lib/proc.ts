import { readFileSync } from 'node:fs';

/** Resident memory of this process in MB. */
export const selfRssMb = () => process.memoryUsage().rss / 2 ** 20;

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function rssKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Resident memory in MB of a process and its descendants (tsx runs the server in a child node); null off Linux. */
export function treeRssMb(pid: number | undefined): number | null {
  if (pid === undefined || process.platform !== 'linux') return null;
  let kb = 0;
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    kb += rssKb(p);
    stack.push(...childrenOf(p));
  }
  return kb / 1024;
}
