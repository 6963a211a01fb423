// The leases this process holds, in memory. On SQLite (one process) they are all the leases
// there are; on PostgreSQL they are this worker's, counted in their subscriptions' slots for the others.
// A lease holds until its attempt ends or it is released; after expiresAt it no longer keeps
// its delivery from being claimed again (the attempt outlived every timeout), and its late
// result is refused once another claim took the delivery.

interface Held {
  token: string;
  subscriptionId: string;
  expiresAt: number;
}

export class HeldLeases {
  readonly #byDelivery = new Map<string, Held>();

  hold(deliveryId: string, subscriptionId: string, token: string, expiresAt: number): void {
    this.#byDelivery.set(deliveryId, { token, subscriptionId, expiresAt });
  }

  /** Whether this token still holds the delivery (expired or not, no other claim has taken it). */
  holds(deliveryId: string, token: string): boolean {
    return this.#byDelivery.get(deliveryId)?.token === token;
  }

  /** Gives up the lease if this token holds it; returns whether it did. */
  drop(deliveryId: string, token: string): boolean {
    if (!this.holds(deliveryId, token)) return false;
    this.#byDelivery.delete(deliveryId);
    return true;
  }

  /** Deliveries whose lease keeps them from being claimed at `now`. */
  leasedIds(now: number, subscriptionId?: string): string[] {
    const ids: string[] = [];
    for (const [id, held] of this.#byDelivery) {
      if (held.expiresAt > now && (subscriptionId === undefined || held.subscriptionId === subscriptionId)) ids.push(id);
    }
    return ids;
  }

  /** Unexpired leases per subscription. */
  inFlightBySubscription(now: number): Map<string, number> {
    const counts = new Map<string, number>();
    for (const held of this.#byDelivery.values()) {
      if (held.expiresAt > now) counts.set(held.subscriptionId, (counts.get(held.subscriptionId) ?? 0) + 1);
    }
    return counts;
  }

  subscriptionOf(deliveryId: string): string | undefined {
    return this.#byDelivery.get(deliveryId)?.subscriptionId;
  }
}
