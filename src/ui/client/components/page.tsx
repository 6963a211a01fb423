// Every page: its heading (also the tab's title), actions beside it, then its content.
import type { ComponentChildren } from 'preact';
import { useEffect } from 'preact/hooks';
import { PORTAL, at } from '../paths.ts';

export function Page(props: { title: string; subtitle?: ComponentChildren; actions?: ComponentChildren; back?: { href: string; label: string }; children: ComponentChildren }) {
  useEffect(() => {
    document.title = `${props.title} · ${PORTAL ? 'webhooks' : 'hookd'}`;
  }, [props.title]);
  return (
    <section class="page">
      {props.back && <a class="back-link" href={at(props.back.href)}>← {props.back.label}</a>}
      <div class="page-head">
        <div class="page-title">
          <h1>{props.title}</h1>
          {props.subtitle && <div class="subtitle">{props.subtitle}</div>}
        </div>
        {props.actions && <div class="page-actions">{props.actions}</div>}
      </div>
      {props.children}
    </section>
  );
}
