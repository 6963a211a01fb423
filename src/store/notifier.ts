// Wake-ups between the parts of hookd and between hookd processes: in-process on SQLite,
// LISTEN/NOTIFY on PostgreSQL (postgres/notifier.ts). A lost notification only delays work
// until the next poll or cache expiry; correctness never depends on it. Only the store
// publishes; callers listen through Queue.onDue, Subscriptions.onChanged and EventTypes.onChanged.
import { EventEmitter } from 'node:events';

export type Topic = 'deliveries-due' | 'subscription-changed' | 'event-type-changed';
export type Listener = (payload: string) => void;

export interface Notifier {
  publish(topic: Topic, payload: string): void;
  subscribe(topic: Topic, listener: Listener): () => void;
}

export class InProcessNotifier implements Notifier {
  readonly #emitter = new EventEmitter().setMaxListeners(0);

  publish(topic: Topic, payload: string): void {
    this.#emitter.emit(topic, payload);
  }

  subscribe(topic: Topic, listener: Listener): () => void {
    this.#emitter.on(topic, listener);
    return () => this.#emitter.off(topic, listener);
  }
}
