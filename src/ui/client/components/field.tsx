// A labelled form field with its hint and the API's message about it, linked for screen readers.
import type { ComponentChildren } from 'preact';

export function Field(props: { name: string; label: string; hint?: string; errors: Record<string, string>; children: (attrs: Record<string, unknown>) => ComponentChildren }) {
  const error = props.errors[props.name];
  const describedBy = [props.hint && `${props.name}-hint`, error && `${props.name}-error`].filter(Boolean).join(' ');
  return (
    <div class={`field${error ? ' invalid' : ''}`}>
      <label class="label" for={props.name}>{props.label}</label>
      {props.children({ id: props.name, name: props.name, 'aria-invalid': error ? 'true' : undefined, 'aria-describedby': describedBy || undefined })}
      {props.hint && <p class="hint" id={`${props.name}-hint`}>{props.hint}</p>}
      {error && <p class="field-error" id={`${props.name}-error`}>{error}</p>}
    </div>
  );
}
