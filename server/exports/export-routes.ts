import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { exportNames } from '../../shared/exports';
import type { AppDeps } from '../app-deps';
import { resolveSession, SESSION_COOKIE } from '../auth/sessions';
import { csvLine } from './csv';
import { rowBatches } from './row-batches';
import { exportSources, type ExportSource } from './sources';

const refuse = (reply: FastifyReply, status: 400 | 401, message: string) => reply.code(status).header('cache-control', 'no-store').send({ error: message });

const stamp = (d: Date) => d.toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');

/**
 * `GET /export/<name>.csv?<the page's filters>`: a CSV streamed from the database as the client
 * reads it (a slow reader pauses the cursor), so a million rows never sit in memory. The same
 * rule as the admin queries: any signed-in admin or analyst (the session cookie), nothing else.
 */
export function registerExportRoutes(app: FastifyInstance, deps: AppDeps) {
  for (const name of exportNames) {
    const source = exportSources[name] as ExportSource;
    app.get(`/export/${name}.csv`, async (req: FastifyRequest, reply) => {
      const token = req.cookies[SESSION_COOKIE];
      const admin = token ? await resolveSession(deps.dbHandle.db, token) : null;
      if (!admin) return refuse(reply, 401, 'Sign in to export: exports need an admin or analyst session.');
      const parsed = source.filter.safeParse(req.query ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        return refuse(reply, 400, `${issue?.path.join('.') || 'filter'}: ${issue?.message ?? 'invalid'}`);
      }
      // The first batch is read before answering, so a failing query is an error status, not a cut-off file.
      const batches = rowBatches(deps.dbHandle, source, parsed.data as never);
      const first = await batches.next();
      async function* csv() {
        try {
          yield csvLine(source.columns);
          if (first.done) return;
          yield first.value.map((r) => csvLine(source.values(r))).join('');
          for await (const rows of batches) yield rows.map((r) => csvLine(source.values(r))).join('');
        } finally {
          // A client that hangs up ends the cursor too.
          await batches.return(undefined);
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
