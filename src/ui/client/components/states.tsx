// What a view shows while it loads, when it failed, and when there is nothing to show.
import type { ComponentChildren } from 'preact';
import { ApiFailure } from '../api.ts';
import { askForKey } from '../auth.ts';

export function Loading({ what }: { what: string }) {
  return (
    <p class="state loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" /> Loading {what}…
    </p>
  );
}

export function ErrorNotice({ error, onRetry }: { error: Error; onRetry?: () => void }) {
  const unauthorized = error instanceof ApiFailure && error.code === 'unauthorized';
  return (
    <div class="state error" role="alert">
      <p>
        <strong>{unauthorized ? 'An API key is needed.' : 'Something went wrong.'}</strong> {error.message}
      </p>
      {unauthorized && (
        <button type="button" class="button" onClick={askForKey}>
          Enter an API key
        </button>
      )}
      {onRetry && !unauthorized && (
        <button type="button" class="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="state empty">
      <p class="empty-title">{title}</p>
      {children && <div class="empty-body">{children}</div>}
    </div>
  );
}

/** A view's data: the spinner first, the error in its place, the content once loaded. */
export function Loaded<T>(props: {
  resource: { data: T | undefined; error: Error | undefined; reload(): void };
  what: string;
  children: (data: T) => ComponentChildren;
}) {
  const { data, error, reload } = props.resource;
  if (data === undefined) return error ? <ErrorNotice error={error} onRetry={reload} /> : <Loading what={props.what} />;
  return (
    <>
      {error && <ErrorNotice error={error} onRetry={reload} />}
      {props.children(data)}
    </>
  );
}
