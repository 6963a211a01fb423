// The applications (tenants): each with its uid, the switch to show its records alone, and
// deletion; and a form to create one. Only an admin key may create or delete them.
import { useState } from 'preact/hooks';
import { api, type Application } from '../api.ts';
import { setApplication, useApplication } from '../application.ts';
import { Page } from '../components/page.tsx';
import { Empty, ErrorNotice, Loaded } from '../components/states.tsx';
import { dateTime } from '../format.ts';
import { useReadOnly } from '../permissions.ts';
import { useResource } from '../use-resource.ts';

function CreateForm({ onCreated }: { onCreated: (application: Application) => void }) {
  const [uid, setUid] = useState('');
  const [name, setName] = useState('');
  const [failure, setFailure] = useState<Error | null>(null);
  return (
    <form class="card filters" aria-label="New application" onSubmit={async (e) => {
      e.preventDefault();
      setFailure(null);
      try {
        onCreated(await api.createApplication({ uid: uid.trim(), name: name.trim() }));
        setUid('');
        setName('');
      } catch (error) {
        setFailure(error as Error);
      }
    }}>
      <label class="field">
        <span class="label">Uid</span>
        <input name="uid" required value={uid} placeholder="customer-4711" onInput={(e) => setUid(e.currentTarget.value)} />
      </label>
      <label class="field">
        <span class="label">Name</span>
        <input name="name" required value={name} placeholder="Acme Corp" onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <button class="button primary" type="submit">Create application</button>
      {failure && <ErrorNotice error={failure} />}
    </form>
  );
}

export function ApplicationsPage() {
  const chosen = useApplication();
  const applications = useResource((signal) => api.applications(signal), []);
  const [failure, setFailure] = useState<Error | null>(null);
  const readOnly = useReadOnly();
  return (
    <Page title="Applications" subtitle="Each of your customers: its subscriptions, events and deliveries are its own.">
      {!readOnly && <CreateForm onCreated={() => applications.reload()} />}
      {failure && <ErrorNotice error={failure} />}
      <Loaded resource={applications} what="applications">
        {({ items }) => items.length === 0 ? <Empty title="No applications." /> : (
          <div class="table-wrap">
            <table class="table responsive">
              <thead>
                <tr><th scope="col">Name</th><th scope="col">Uid</th><th scope="col">Created</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr>
              </thead>
              <tbody>
                {items.map((a) => (
                  <tr key={a.id}>
                    <td data-label="Name"><span class="strong">{a.name}</span><div class="muted small mono">{a.id}</div></td>
                    <td data-label="Uid" class="mono">{a.uid}</td>
                    <td data-label="Created" class="nowrap">{dateTime(a.created_at)}</td>
                    <td class="nowrap">
                      <button type="button" class="button" aria-pressed={chosen === a.id} onClick={() => setApplication(chosen === a.id ? null : a.id)}>
                        {chosen === a.id ? 'Shown' : 'Show only this'}
                      </button>{' '}
                      {a.uid !== 'default' && !readOnly && (
                        <button type="button" class="button danger" onClick={async () => {
                          if (!confirm(`Delete ${a.name}? Its subscriptions go and their unfinished deliveries are cancelled.`)) return;
                          setFailure(null);
                          try {
                            await api.deleteApplication(a.id);
                            if (chosen === a.id) setApplication(null);
                            applications.reload();
                          } catch (error) {
                            setFailure(error as Error);
                          }
                        }}>Delete</button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Loaded>
    </Page>
  );
}
