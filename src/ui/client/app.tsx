// The app: header and navigation, the API-key prompt, and one page per path. The paths must
// match UI_PAGES in ../ui-routes.ts, which serves this page at each of them.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { LocationProvider, Route, Router, useLocation } from 'preact-iso';
import { api } from './api.ts';
import { apiKey, authState, forgetKey, onAuthChange } from './auth.ts';
import { ApiKeyDialog } from './components/api-key-dialog.tsx';
import { ApplicationSwitch } from './components/application-switch.tsx';
import { ApplicationsPage } from './pages/applications.tsx';
import { DashboardPage } from './pages/dashboard.tsx';
import { DeliveriesPage } from './pages/deliveries.tsx';
import { DeliveryPage } from './pages/delivery.tsx';
import { EventTypeFormPage } from './pages/event-type-form.tsx';
import { EventTypesPage } from './pages/event-types.tsx';
import { LivePage } from './pages/live.tsx';
import { SubscriptionFormPage } from './pages/subscription-form.tsx';
import { SubscriptionPage } from './pages/subscription.tsx';
import { SubscriptionsPage } from './pages/subscriptions.tsx';
import { ReadOnly } from './permissions.ts';
import { useAuthEpoch, useResource } from './use-resource.ts';

const NAV = [
  { href: '/', label: 'Dashboard' },
  { href: '/subscriptions', label: 'Subscriptions' },
  { href: '/deliveries', label: 'Deliveries' },
  { href: '/event-types', label: 'Event types' },
  { href: '/live', label: 'Live tail' },
  { href: '/applications', label: 'Applications' },
];

function NavLink({ href, children }: { href: string; children: ComponentChildren }) {
  const { path } = useLocation();
  const current = href === '/' ? path === '/' : path === href || path.startsWith(`${href}/`);
  return <a href={href} class={current ? 'current' : undefined} aria-current={current ? 'page' : undefined}>{children}</a>;
}

function KeyPrompt() {
  const [needed, setNeeded] = useState(authState().keyNeeded);
  const [dismissed, setDismissed] = useState(false);
  useEffect(() => {
    const stop = onAuthChange(() => {
      setNeeded(authState().keyNeeded);
      setDismissed(false);
    });
    // A refusal that came before this subscription would otherwise be missed.
    setNeeded(authState().keyNeeded);
    return stop;
  }, []);
  return needed && !dismissed ? <ApiKeyDialog onClose={() => setDismissed(true)} /> : null;
}

function KeyStatus() {
  useAuthEpoch();
  if (!apiKey()) return null;
  return <button type="button" class="link-button" onClick={forgetKey}>Forget API key</button>;
}

function NotFound() {
  return (
    <section class="page">
      <h1>Page not found</h1>
      <p>There is nothing at this address. <a href="/">Go to the dashboard</a>.</p>
    </section>
  );
}

export function App() {
  // Asked again whenever the key changes (useResource follows it). Until the answer, the
  // admin pages show their buttons: the API refuses what a read-only key may not do anyway.
  const access = useResource((signal) => api.access(signal), []);
  const readOnly = access.data?.read_only ?? false;
  return (
    <LocationProvider>
      <a class="skip-link" href="#main">Skip to content</a>
      <header class="topbar">
        <a class="brand" href="/" aria-label="hookd dashboard">
          <span class="brand-mark" aria-hidden="true">h</span>hookd
        </a>
        <nav aria-label="Main">
          {NAV.map((item) => <NavLink key={item.href} href={item.href}>{item.label}</NavLink>)}
        </nav>
        <ApplicationSwitch />
        {readOnly && <span class="muted small" data-testid="read-only-key">read-only key</span>}
        <KeyStatus />
      </header>
      <main id="main" tabIndex={-1}>
        <ReadOnly.Provider value={readOnly}>
        <Router onRouteChange={() => document.getElementById('main')?.focus({ preventScroll: true })}>
          <Route path="/" component={DashboardPage} />
          <Route path="/subscriptions" component={SubscriptionsPage} />
          <Route path="/subscriptions/new" component={SubscriptionFormPage} />
          <Route path="/subscriptions/:id/edit" component={SubscriptionFormPage} />
          <Route path="/subscriptions/:id" component={SubscriptionPage} />
          <Route path="/deliveries" component={DeliveriesPage} />
          <Route path="/deliveries/:id" component={DeliveryPage} />
          <Route path="/event-types" component={EventTypesPage} />
          <Route path="/event-types/new" component={EventTypeFormPage} />
          <Route path="/event-types/:name/edit" component={EventTypeFormPage} />
          <Route path="/live" component={LivePage} />
          <Route path="/applications" component={ApplicationsPage} />
          <Route default component={NotFound} />
        </Router>
        </ReadOnly.Provider>
      </main>
      <KeyPrompt />
    </LocationProvider>
  );
}
