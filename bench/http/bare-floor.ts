import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { repoRoot } from '../../server/test/spawn';

export type BareServer = { child: ChildProcess; url: string; stop: () => Promise<void> };

/** Starts bench/http/bare-server.ts in its own process (as the app's server runs) and waits until it listens. */
export async function startBareServer(env: { DATABASE_URL: string; DATABASE_POOL_MAX: string; BARE_PROVIDER: string }): Promise<BareServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/http/bare-server.ts'], { cwd: repoRoot, env: { ...process.env, ...env } });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.stderr.on('data', (d) => (out += d));
    child.once('exit', (code) => reject(new Error(`the bare HTTP floor exited with ${code}:\n${out}`)));
  });
  return {
    child,
    url,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
