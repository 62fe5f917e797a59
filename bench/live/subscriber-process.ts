import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { repoRoot } from '../../server/test/spawn';

export type SubscriberProcess = { child: ChildProcess; close: () => Promise<{ events: number; bytes: number }> };

/** Starts bench/live/subscribers.ts and resolves once all its streams are open; close() answers the events and bytes they received. */
export async function startSubscribers(env: { LIVE_URL: string; LIVE_COOKIE: string; SUBSCRIBERS: string }): Promise<SubscriberProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/live/subscribers.ts'], { cwd: repoRoot, env: { ...process.env, ...env } });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  await new Promise<void>((resolve, reject) => {
    const onData = () => /^open \d+$/m.test(out) && resolve();
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the subscribers exited with ${code}:\n${out}`)));
  });
  return {
    child,
    close: async () => {
      if (child.exitCode !== null) throw new Error(`the subscribers died during the round:\n${out}`);
      child.kill('SIGTERM');
      await once(child, 'exit');
      const m = /^events (\d+) bytes (\d+)$/m.exec(out);
      if (!m) throw new Error(`the subscribers did not report their events:\n${out}`);
      return { events: Number(m[1]), bytes: Number(m[2]) };
    },
  };
}
