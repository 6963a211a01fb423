// Shown when the API answers 401: asks for an API key for this browser session.
import { useState } from 'preact/hooks';
import { apiKey, setApiKey } from '../auth.ts';
import { Dialog } from './dialog.tsx';

export function ApiKeyDialog({ onClose }: { onClose: () => void }) {
  const [key, setKey] = useState('');
  const rejected = apiKey() !== null;
  return (
    <Dialog title="API key needed" onClose={onClose}>
      <form class="dialog-body form" onSubmit={(e) => {
        e.preventDefault();
        if (key.trim()) setApiKey(key);
      }}>
        <p>
          {rejected ? 'hookd did not accept the key this tab was using. ' : 'This hookd requires an API key. '}
          Enter one (it starts with <code>hk_</code>; <code>hookd keys create</code> makes one). It is kept only until this tab is closed.
        </p>
        <label class="field">
          <span class="label">API key</span>
          <input type="password" name="api-key" autoComplete="off" autoFocus value={key} onInput={(e) => setKey(e.currentTarget.value)} required />
        </label>
        <div class="actions">
          <button type="submit" class="button primary">Use this key</button>
        </div>
      </form>
    </Dialog>
  );
}
