// Consumer portal sessions as stored: the hash of each session's token (never the token),
// checked on every request, so a revoked session stops working at once.
import type { PortalSession } from '../domain/index.ts';
import type { PortalSessions } from './contracts.ts';
import type { SqlContext } from './sql-context.ts';

function toPortalSession(row: Record<string, unknown>): PortalSession {
  return {
    id: row.id as string,
    applicationId: row.application_id as string,
    tokenHash: row.token_hash as string,
    theme: (typeof row.theme === 'string' ? JSON.parse(row.theme) : row.theme) as PortalSession['theme'],
    readOnly: row.read_only === true || row.read_only === 1 || row.read_only === 1n,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    revokedAt: row.revoked_at == null ? null : Number(row.revoked_at),
  };
}

export class SqlPortalSessions implements PortalSessions {
  readonly #ctx: SqlContext;

  constructor(ctx: SqlContext) {
    this.#ctx = ctx;
  }

  async create(session: PortalSession): Promise<void> {
    await this.#ctx.db.insertInto('portal_sessions').values({
      id: session.id, application_id: session.applicationId, token_hash: session.tokenHash, theme: JSON.stringify(session.theme), read_only: session.readOnly,
      created_at: session.createdAt, expires_at: session.expiresAt, revoked_at: session.revokedAt,
    }).execute();
  }

  async active(tokenHash: string, now: number): Promise<PortalSession | undefined> {
    const row = await this.#ctx.db.selectFrom('portal_sessions').selectAll()
      .where('token_hash', '=', tokenHash).where('revoked_at', 'is', null).where('expires_at', '>', now).executeTakeFirst();
    return row && toPortalSession(row);
  }

  async revoke(applicationId: string, id: string, now: number): Promise<boolean> {
    const result = await this.#ctx.db.updateTable('portal_sessions').set({ revoked_at: now })
      .where('id', '=', id).where('application_id', '=', applicationId).where('revoked_at', 'is', null).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}
