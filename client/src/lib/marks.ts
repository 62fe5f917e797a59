const marked = new Set<string>();

/**
 * A User Timing mark, the first time a step is reached (a component's first render, not each one):
 * the spa benchmark's waterfall shows the `cd:` marks between the page's requests.
 */
export function markOnce(name: `cd:${string}`): void {
  if (marked.has(name)) return;
  marked.add(name);
  performance.mark(name);
}
