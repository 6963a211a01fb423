// The receiver (receiver.ts) as a process of its own, forked by the benchmark: it reports to
// the parent over IPC, a running count and the arrivals when asked.
import { ArrivalLog, listenForWebhooks } from './receiver.ts';

export type ReceiverCommand =
  /** Forget what arrived; `keepArrivals: false` counts only (for runs of a million). */
  | { type: 'reset'; keepArrivals: boolean }
  | { type: 'collect' };

export type ReceiverReport =
  | { type: 'ready'; port: number }
  | { type: 'count'; count: number }
  | { type: 'arrivals'; ids: string[]; times: Float64Array };

const COUNT_REPORT_MS = 200;

const log = new ArrivalLog();

function send(report: ReceiverReport): void {
  process.send?.(report);
}

process.on('message', (command: ReceiverCommand) => {
  if (command.type === 'reset') {
    log.reset(command.keepArrivals);
    send({ type: 'count', count: log.count });
  } else if (command.type === 'collect') {
    send({ type: 'arrivals', ...log.arrivals() });
  }
});

let reported = -1;
setInterval(() => {
  if (log.count === reported) return;
  reported = log.count;
  send({ type: 'count', count: log.count });
}, COUNT_REPORT_MS).unref();

// The parent going away (even by SIGKILL) closes the channel: stop with it.
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));

const { port } = await listenForWebhooks(log);
send({ type: 'ready', port });
