// What hookd tells operators about: listed in /api/v1/status, and delivered to
// HOOKD_OPERATIONS_URL when set.
import type { NewEvent } from './delivery.ts';

export const OPERATIONAL_EVENT_TYPES = ['subscription.disabled', 'delivery.failed'] as const;
export type OperationalEventType = (typeof OPERATIONAL_EVENT_TYPES)[number];

export interface OperationalEvent {
  id: string;
  type: OperationalEventType;
  subscriptionId: string;
  deliveryId: string | null;
  reason: string;
  createdAt: number;
}

/** An operational event and, when an operations subscription exists, its delivery to it. */
export interface OperationalNotice {
  event: OperationalEvent;
  delivery: NewEvent | null;
}
