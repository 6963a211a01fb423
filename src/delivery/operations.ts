// hookd's own events for operators: `delivery.failed` when a delivery runs out of attempts
// and `subscription.disabled` when hookd disables a subscription (410 Gone, or failing for
// too long). Each is recorded (listed in /api/v1/status) and, when HOOKD_OPERATIONS_URL is
// set, delivered there through the same outbox as any event: signed, retried, logged. The
// operations subscription is a system subscription with a fixed id, never part of fan-out;
// its own failures raise no further events, so a dead operations URL cannot loop.
import { uuidv7 } from 'uuidv7';
import type { Config } from '../config.ts';
import {
  DEFAULT_APPLICATION_ID, destinationJson, generateSecret, newDelivery, newSubscription, type Delivery, type OperationalEventType, type OperationalNotice, type Subscription,
} from '../domain/index.ts';
import type { Subscriptions } from '../store/contracts.ts';
import { StoreConflictError } from '../store/errors.ts';

export const OPERATIONS_SUBSCRIPTION_ID = '00000000-0000-7000-8000-000000000001';

export class Operations {
  readonly #subscriptions: Pick<Subscriptions, 'get' | 'create' | 'update'>;
  readonly #config: Config;
  #enabled = false;

  constructor(subscriptions: Pick<Subscriptions, 'get' | 'create' | 'update'>, config: Config) {
    this.#subscriptions = subscriptions;
    this.#config = config;
  }

  /** Creates or updates the operations subscription from HOOKD_OPERATIONS_URL. */
  async prepare(now: number): Promise<void> {
    const url = this.#config.operationsUrl;
    if (!url) return;
    const current = await this.#subscriptions.get(OPERATIONS_SUBSCRIPTION_ID);
    const secret = this.#config.operationsSecret ?? current?.secret ?? generateSecret();
    const settings: Subscription = {
      ...newSubscription({
        id: OPERATIONS_SUBSCRIPTION_ID, targetUrl: url, secret, system: true,
        description: 'hookd operational events (HOOKD_OPERATIONS_URL)',
      }, now),
      createdAt: current?.createdAt ?? now,
    };
    if (!current) {
      // Several processes may start at once: whoever inserts second just updates.
      await this.#subscriptions.create(settings).catch((error: unknown) => {
        if (!(error instanceof StoreConflictError)) throw error;
        return this.#subscriptions.update(settings);
      });
    } else if (current.targetUrl !== url || current.secret !== secret || !current.active) {
      await this.#subscriptions.update(settings, { resetHealth: true });
    }
    this.#enabled = true;
  }

  /** The notice for an event about `subscription`, or null for the operations subscription itself. */
  notice(type: OperationalEventType, subscription: Subscription, delivery: Delivery | null, reason: string, now: number): OperationalNotice | null {
    if (subscription.system) return null;
    const event = { id: uuidv7(), type, subscriptionId: subscription.id, deliveryId: delivery?.id ?? null, reason, createdAt: now };
    if (!this.#enabled) return { event, delivery: null };
    const body = {
      type,
      timestamp: new Date(now).toISOString(),
      data: {
        subscription_id: subscription.id,
        target_url: subscription.targetUrl,
        destination: subscription.destination && destinationJson(subscription.destination),
        reason,
        ...(delivery && { delivery_id: delivery.id, event_id: delivery.eventId, event_type: delivery.eventType, attempts: delivery.attempts + 1 }),
      },
    };
    const eventId = uuidv7();
    return {
      event,
      delivery: {
        event: { id: eventId, applicationId: DEFAULT_APPLICATION_ID, eventType: type, payload: Buffer.from(JSON.stringify(body)), createdAt: now },
        deliveries: [newDelivery({ id: uuidv7(), eventId, subscriptionId: OPERATIONS_SUBSCRIPTION_ID, eventType: type, status: 'queued' }, now)],
      },
    };
  }
}
