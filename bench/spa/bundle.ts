import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { repoRoot } from '../../server/test/spawn';

type ManifestChunk = { file: string; src?: string; name?: string; isEntry?: boolean; isDynamicEntry?: boolean; imports?: string[]; dynamicImports?: string[]; css?: string[] };
type Manifest = Record<string, ManifestChunk>;

export type Sizes = { files: string[]; bytes: number; gzipBytes: number };
export type BundleReport = {
  buildMs: number;
  initialJs: Sizes;
  initialCss: Sizes;
  /** Per lazily loaded page: what visiting it adds to what the first load already fetched. */
  lazy: { src: string; js: Sizes; css: Sizes }[];
};

/** `npx vite build` of the SPA into `outDir` with a manifest (not dist/client, which a running e2e suite may be serving). */
export async function viteBuild(outDir: string): Promise<number> {
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn('npx', ['vite', 'build', '--outDir', outDir, '--emptyOutDir', '--manifest', '--logLevel', 'warn'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`vite build exited with ${code}:\n${out}`))));
  });
  return performance.now() - t0;
}

/** Bytes and gzip bytes (zlib's default level, as Vite's build report) of files under outDir. */
function sizes(outDir: string, files: Iterable<string>): Sizes {
  const list = [...new Set(files)].sort();
  let bytes = 0;
  let gzipBytes = 0;
  for (const f of list) {
    const buf = readFileSync(path.join(outDir, f));
    bytes += buf.length;
    gzipBytes += gzipSync(buf).length;
  }
  return { files: list, bytes, gzipBytes };
}

/** The manifest keys a chunk pulls in statically (itself included), transitively. */
function staticClosure(manifest: Manifest, key: string, seen = new Set<string>()): Set<string> {
  if (seen.has(key)) return seen;
  seen.add(key);
  for (const dep of manifest[key]?.imports ?? []) staticClosure(manifest, dep, seen);
  return seen;
}

/**
 * Initial JS: the entry chunk and everything it imports statically (what index.html loads before
 * the app runs); each dynamic entry (a lazy page): its chunk and static imports not in the initial set.
 */
export function analyseBundle(outDir: string, buildMs: number): BundleReport {
  const manifestFile = path.join(outDir, '.vite', 'manifest.json');
  if (!existsSync(manifestFile)) throw new Error(`no Vite manifest at ${manifestFile}`);
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
  const entries = Object.keys(manifest).filter((k) => manifest[k]!.isEntry);
  if (entries.length === 0) throw new Error('the Vite manifest names no entry');
  const initial = new Set<string>();
  for (const e of entries) staticClosure(manifest, e, initial);
  const jsOf = (keys: Iterable<string>) => [...keys].map((k) => manifest[k]!.file).filter((f) => f.endsWith('.js'));
  const cssOf = (keys: Iterable<string>) => [...keys].flatMap((k) => manifest[k]!.css ?? []);
  const initialCss = new Set(cssOf(initial));
  // The HTML is the truth for what loads first: every script and stylesheet it names must be in the initial set.
  const html = readFileSync(path.join(outDir, 'index.html'), 'utf8');
  const named = [...html.matchAll(/(?:src|href)="\/?(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]!);
  const initialJsFiles = new Set(jsOf(initial));
  for (const f of named) if (!initialJsFiles.has(f) && !initialCss.has(f)) throw new Error(`index.html loads ${f}, which the manifest's entry closure misses`);

  const lazy = Object.keys(manifest)
    .filter((k) => manifest[k]!.isDynamicEntry)
    .map((k) => {
      const closure = [...staticClosure(manifest, k)].filter((x) => !initial.has(x));
      return {
        src: manifest[k]!.src ?? k,
        js: sizes(outDir, jsOf(closure)),
        css: sizes(
          outDir,
          cssOf(closure).filter((f) => !initialCss.has(f)),
        ),
      };
    })
    .sort((a, b) => a.src.localeCompare(b.src));
  return { buildMs, initialJs: sizes(outDir, initialJsFiles), initialCss: sizes(outDir, initialCss), lazy };
}
