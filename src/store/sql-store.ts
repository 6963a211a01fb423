// One Store over either database: each role's implementation, sharing the Kysely handles,
// the dialect and the secret box.
import { SqlApiKeys } from './api-keys.ts';
import { SqlApplications } from './applications.ts';
import type { Store } from './contracts.ts';
import { SqlDeliveryLog } from './delivery-log.ts';
import { SqlEventTypes } from './event-types.ts';
import { SqlIdempotencyKeys } from './idempotency-keys.ts';
import { SqlMaintenance } from './maintenance.ts';
import { SqlPortalSessions } from './portal-sessions.ts';
import { SqlQueue } from './queue/queue.ts';
import { SqlReadModels } from './read-models.ts';
import type { SqlContext } from './sql-context.ts';
import { SqlSubscriptions } from './subscriptions.ts';

/** `closeConnections` ends the database connections; queries after it fail as StoreUnavailableError. */
export function sqlStore(ctx: SqlContext, closeConnections: () => Promise<void>): Store {
  return {
    kind: ctx.dialect.kind,
    location: ctx.dialect.location,
    queue: new SqlQueue(ctx),
    applications: new SqlApplications(ctx),
    portalSessions: new SqlPortalSessions(ctx),
    subscriptions: new SqlSubscriptions(ctx),
    eventTypes: new SqlEventTypes(ctx),
    deliveryLog: new SqlDeliveryLog(ctx),
    readModels: new SqlReadModels(ctx),
    apiKeys: new SqlApiKeys(ctx),
    idempotencyKeys: new SqlIdempotencyKeys(ctx),
    maintenance: new SqlMaintenance(ctx),
    async close() {
      await ctx.dialect.close();
      await closeConnections();
    },
  };
}
