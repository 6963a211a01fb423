// The header's application switch: every application's records, or one application's. An
// application's key sees its own application only, so the list is what the key may see.
import { api } from '../api.ts';
import { setApplication, useApplication } from '../application.ts';
import { useResource } from '../use-resource.ts';

export function ApplicationSwitch() {
  const chosen = useApplication();
  const applications = useResource((signal) => api.applications(signal), []);
  const items = applications.data?.items ?? [];
  return (
    <label class="application-switch">
      <span class="visually-hidden">Application</span>
      <select value={chosen ?? ''} onChange={(e) => setApplication(e.currentTarget.value || null)} aria-label="Application">
        <option value="">All applications</option>
        {chosen && !items.some((a) => a.id === chosen) && <option value={chosen}>{chosen}</option>}
        {items.map((a) => <option key={a.id} value={a.id}>{a.name} ({a.uid})</option>)}
      </select>
    </label>
  );
}
