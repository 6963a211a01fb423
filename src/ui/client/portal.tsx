// The consumer portal: one application's subscriptions, deliveries and event-type catalog,
// for the user's own customer, opened with a portal link (/portal#token=hps_…). The token is taken from the
// fragment (never sent to a server in a URL), kept in sessionStorage apart from any API key,
// and sent as the bearer token; the page is themed with the session's name, accent and logo,
// and may be framed by the origins in HOOKD_PORTAL_FRAME_ANCESTORS.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { LocationProvider, Route, Router, useLocation } from 'preact-iso';
import { api } from './api.ts';
import { authState, onAuthChange, setApiKey } from './auth.ts';
import { at } from './paths.ts';
import { ReadOnly } from './permissions.ts';
import { PortalSessionContext } from './portal-session.ts';
import { DeliveriesPage } from './pages/deliveries.tsx';
import { DeliveryPage } from './pages/delivery.tsx';
import { CatalogPage } from './pages/catalog.tsx';
import { SubscriptionFormPage } from './pages/subscription-form.tsx';
import { SubscriptionPage } from './pages/subscription.tsx';
import { SubscriptionsPage } from './pages/subscriptions.tsx';
import { useResource } from './use-resource.ts';

/** Takes the token out of the address, before anything is loaded. */
export function adoptPortalToken(): void {
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  if (!token) return;
  setApiKey(token);
  history.replaceState(null, '', location.pathname + location.search);
}

function NavLink({ href, children }: { href: string; children: ComponentChildren }) {
  const { path } = useLocation();
  const current = path === href || path.startsWith(`${href}/`) || (href === at('/subscriptions') && path === at('/'));
  return <a href={href} class={current ? 'current' : undefined} aria-current={current ? 'page' : undefined}>{children}</a>;
}

function Ended() {
  return (
    <section class="page">
      <h1>This link has ended</h1>
      <p>The portal link has expired or was revoked. Ask for a new one where you found it.</p>
    </section>
  );
}

export function PortalApp() {
  const [ended, setEnded] = useState(authState().keyNeeded);
  useEffect(() => {
    const stop = onAuthChange(() => setEnded(authState().keyNeeded));
    // A refusal that came before this subscription (the first requests start as the page
    // renders) would otherwise be missed, and the portal would wait on a revoked link.
    setEnded(authState().keyNeeded);
    return stop;
  }, []);
  const session = useResource((signal) => api.portalSession(signal), []);
  const theme = session.data?.theme;
  useEffect(() => {
    if (!theme?.accent) return;
    const root = document.documentElement.style;
    root.setProperty('--accent', theme.accent);
    root.setProperty('--accent-soft', `color-mix(in srgb, ${theme.accent} 14%, transparent)`);
  }, [theme?.accent]);
  const title = theme?.name ?? 'Webhooks';
  return (
    <LocationProvider>
      <a class="skip-link" href="#main">Skip to content</a>
      <header class="topbar portal">
        <a class="brand" href={at('/')} aria-label={title}>
          {theme?.logo_url ? <img class="portal-logo" src={theme.logo_url} alt="" /> : <span class="brand-mark" aria-hidden="true">{title.slice(0, 1)}</span>}
          {title}
        </a>
        <nav aria-label="Main">
          <NavLink href={at('/subscriptions')}>Subscriptions</NavLink>
          <NavLink href={at('/deliveries')}>Deliveries</NavLink>
          <NavLink href={at('/event-types')}>Event types</NavLink>
        </nav>
        {session.data && (
          <span class="muted small" data-testid="portal-application">
            {session.data.application.name}{session.data.read_only ? ' · read-only' : ''}
          </span>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {ended ? <Ended /> : (
          // Read-only until the session says otherwise: no write button flashes up for a
          // read-only link while its session loads.
          <PortalSessionContext.Provider value={session.data}>
          <ReadOnly.Provider value={session.data?.read_only ?? true}>
          <Router onRouteChange={() => document.getElementById('main')?.focus({ preventScroll: true })}>
            <Route path="/portal" component={SubscriptionsPage} />
            <Route path="/portal/subscriptions" component={SubscriptionsPage} />
            <Route path="/portal/subscriptions/new" component={SubscriptionFormPage} />
            <Route path="/portal/subscriptions/:id/edit" component={SubscriptionFormPage} />
            <Route path="/portal/subscriptions/:id" component={SubscriptionPage} />
            <Route path="/portal/deliveries" component={DeliveriesPage} />
            <Route path="/portal/deliveries/:id" component={DeliveryPage} />
            <Route path="/portal/event-types" component={CatalogPage} />
            <Route default component={Ended} />
          </Router>
          </ReadOnly.Provider>
          </PortalSessionContext.Provider>
        )}
      </main>
    </LocationProvider>
  );
}
