// Queues again the failed deliveries of a subscription, optionally within a time range.
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { ConfirmDialog } from './dialog.tsx';

/** datetime-local gives local time without a zone; the API wants an instant. */
export function instant(local: string): string | undefined {
  return local ? new Date(local).toISOString() : undefined;
}

export function ReplayDialog({ subscriptionId, onClose, onDone }: { subscriptionId: string; onClose: () => void; onDone: (count: number) => void }) {
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');
  return (
    <ConfirmDialog
      title="Replay failed deliveries"
      confirm="Replay"
      onClose={onClose}
      onConfirm={async () => {
        const range = { ...(since && { since: instant(since) }), ...(until && { until: instant(until) }) };
        const { count } = await api.replayFailed(subscriptionId, range);
        onDone(count);
      }}
    >
      <p>Every failed delivery of this subscription is queued again and sent as soon as possible. Leave the times empty for all of them.</p>
      <div class="grid-fields">
        <label class="field">
          <span class="label">Created from</span>
          <input type="datetime-local" value={since} onInput={(e) => setSince(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span class="label">Created before</span>
          <input type="datetime-local" value={until} onInput={(e) => setUntil(e.currentTarget.value)} />
        </label>
      </div>
    </ConfirmDialog>
  );
}
