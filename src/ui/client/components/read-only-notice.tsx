// Shown instead of a form when the key or portal link in use may only read.
export function ReadOnlyNotice() {
  return <p class="notice" role="status" data-testid="read-only">This is read-only access: it shows what is here but cannot create or change it.</p>;
}
