import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { exportNames } from '../../shared/exports';
import type { AppDeps } from '../app-deps';
import { resolveSession, SESSION_COOKIE } from '../auth/sessions';
import { csvLine } from './csv';
import { rowBatches } from './row-batches';
import { exportSources, type ExportSource } from './sources';

const refuse = (reply: FastifyReply, status: 400 | 401 | 403 | 429, message: string) => reply.code(status).header('cache-control', 'no-store').send({ error: message });

/**
 * How much of the database the exports may hold. Each export streams through a server-side cursor,
 * which keeps one pooled connection from its first batch to its last, however slowly its reader
 * reads: without a bound, a few exports opened and never read took every connection, and every
 * other request of the process waited on the pool. Read at each request (tests tune them).
 */
export const exportLimits = {
  /** An export whose reader has taken nothing for this long is ended, and its connection given back. */
  stallMs: 30_000,
  /** Exports one process streams at once: a quarter of its pool (at least one); more are refused with 429. */
  maxConcurrent: (poolMax: number) => Math.max(1, Math.floor(poolMax / 4)),
  /** The Retry-After of a refused export, in seconds. */
  retryAfterSeconds: 10,
  /**
   * How often a running export checks that its session still holds (as the live streams do): a
   * revoked, expired or disabled session's export is cut off, not streamed to its end.
   */
  sessionRecheckMs: 5_000,
};

/** Thrown inside an export whose session ended while it streamed. */
class SessionEnded extends Error {}

const stamp = (d: Date) => d.toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');

/**
 * `GET /export/<name>.csv?<the page's filters>`: a CSV streamed from the database as the client
 * reads it (a slow reader pauses the cursor), so a million rows never sit in memory. The same
 * rule as the admin queries: any signed-in admin or analyst (the session cookie), nothing else.
 */
export function registerExportRoutes(app: FastifyInstance, deps: AppDeps) {
  let streaming = 0;
  for (const name of exportNames) {
    const source = exportSources[name] as ExportSource;
    app.get(`/export/${name}.csv`, async (req: FastifyRequest, reply) => {
      const token = req.cookies[SESSION_COOKIE];
      const admin = token ? await resolveSession(deps.dbHandle.db, token) : null;
      if (!admin) return refuse(reply, 401, 'Sign in to export: exports need an admin or analyst session.');
      // As every admin procedure but auth.me, auth.logout and auth.changePassword refuses it.
      if (admin.mustChangePassword) return refuse(reply, 403, 'Your password was generated for you: choose your own password before exporting.');
      const exporter = admin.email;
      const parsed = source.filter.safeParse(req.query ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        return refuse(reply, 400, `${issue?.path.join('.') || 'filter'}: ${issue?.message ?? 'invalid'}`);
      }
      if (streaming >= exportLimits.maxConcurrent(deps.config.DATABASE_POOL_MAX)) {
        reply.header('retry-after', String(exportLimits.retryAfterSeconds));
        return refuse(reply, 429, 'Too many exports are running right now: try again in a moment.');
      }
      streaming += 1;
      const batches = rowBatches(deps.dbHandle, source, parsed.data as never);
      // Handed a chunk, not yet asked for the next one: since when (null while we are the ones working).
      let waitingSince: number | null = null;
      const stallMs = exportLimits.stallMs;
      const watch = setInterval(
        () => {
          if (waitingSince !== null && Date.now() - waitingSince >= stallMs) reply.raw.destroy();
        },
        Math.max(25, Math.floor(stallMs / 4)),
      );
      watch.unref();
      let ended = false;
      // Whichever way the export ends (done, failed, hung up, cut off for stalling): the cursor is
      // closed and the slot given back, once. Also when the CSV generator never started, whose own
      // `finally` would then never run.
      const end = async () => {
        if (ended) return;
        ended = true;
        clearInterval(watch);
        streaming -= 1;
        await batches.return(undefined);
      };
      reply.raw.once('close', () => void end().catch((err: unknown) => req.log.warn({ err, export: name }, 'export cursor did not close')));
      // The first batch is read before answering, so a failing query is an error status, not a cut-off file.
      let first: IteratorResult<Record<string, unknown>[]>;
      try {
        first = await batches.next();
      } catch (err) {
        await end();
        throw err;
      }
      async function* csv() {
        const handOver = async function* (chunk: string) {
          waitingSince = Date.now();
          yield chunk;
          waitingSince = null;
          if (Date.now() >= recheckAt) {
            recheckAt = Date.now() + exportLimits.sessionRecheckMs;
            const still = await resolveSession(deps.dbHandle.db, token!);
            if (!still || still.mustChangePassword) throw new SessionEnded();
          }
        };
        let recheckAt = Date.now() + exportLimits.sessionRecheckMs;
        try {
          yield* handOver(csvLine(source.columns));
          if (first.done) return;
          yield* handOver(first.value.map((r) => csvLine(source.values(r))).join(''));
          for await (const rows of batches) yield* handOver(rows.map((r) => csvLine(source.values(r))).join(''));
        } catch (err) {
          if (!(err instanceof SessionEnded)) throw err;
          // Cut off, never ended cleanly: a file that stops short must not look complete.
          req.log.info({ export: name, admin: exporter }, 'csv export ended: its session ended');
          reply.raw.destroy();
        } finally {
          // A client that hangs up ends the cursor too.
          await end();
        }
      }
      req.log.info({ export: name, admin: admin.email, filter: parsed.data }, 'csv export');
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="creditdesk-${name}-${stamp(new Date())}.csv"`)
        .header('cache-control', 'no-store')
        .send(Readable.from(csv(), { objectMode: false, highWaterMark: 1 }));
    });
  }
}
