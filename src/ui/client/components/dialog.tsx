// A modal dialog on the native <dialog>: focus moves into it, Escape closes it, and focus
// returns to where it was.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ErrorNotice } from './states.tsx';

export function Dialog(props: { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current!;
    const opener = document.activeElement as HTMLElement | null;
    dialog.showModal();
    return () => {
      dialog.close();
      opener?.focus();
    };
  }, []);
  return (
    <dialog ref={ref} class={props.wide ? 'dialog wide' : 'dialog'} aria-labelledby="dialog-title" onCancel={(e) => {
      e.preventDefault();
      props.onClose();
    }}>
      <div class="dialog-head">
        <h2 id="dialog-title">{props.title}</h2>
        <button type="button" class="icon-button" aria-label="Close" onClick={props.onClose}>×</button>
      </div>
      {props.children}
    </dialog>
  );
}

/** Asks before doing something that cannot be undone; shows the failure in place if it fails. */
export function ConfirmDialog(props: {
  title: string;
  confirm: string;
  danger?: boolean;
  onConfirm: () => Promise<unknown>;
  onClose: () => void;
  children: ComponentChildren;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error>();
  async function run() {
    setBusy(true);
    setError(undefined);
    try {
      await props.onConfirm();
    } catch (failure) {
      setError(failure as Error);
      setBusy(false);
    }
  }
  return (
    <Dialog title={props.title} onClose={props.onClose}>
      <div class="dialog-body">{props.children}</div>
      {error && <ErrorNotice error={error} />}
      <div class="actions">
        <button type="button" class="button" onClick={props.onClose}>Cancel</button>
        <button type="button" class={props.danger ? 'button danger' : 'button primary'} disabled={busy} onClick={run}>
          {busy ? 'Working…' : props.confirm}
        </button>
      </div>
    </Dialog>
  );
}
