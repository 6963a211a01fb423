// Notifications inside one process: all SQLite needs, and the local half of PostgreSQL's.
import { EventEmitter } from 'node:events';
import type { Listener, Notifier, Topic } from './store.ts';

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
