import { treeRssMb } from './proc';

/**
 * Samples a process's resident memory (VmRSS of it and its children) every `everyMs` until stopped;
 * stop() returns the highest sample in MB, or null off Linux or without a pid.
 */
export function sampleRss(pid: number | undefined, everyMs = 250): { stop: () => number | null } {
  let max: number | null = null;
  const take = () => {
    const mb = treeRssMb(pid);
    if (mb !== null && mb > 0) max = Math.max(max ?? 0, mb);
  };
  take();
  const timer = setInterval(take, everyMs);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      take();
      return max;
    },
  };
}
