// The one-look summary: volumes, success rate, latency, the queue, charts over time, and the
// subscriptions that need attention. Refreshes itself every few seconds.
import { useMemo, useState } from 'preact/hooks';
import { api, type Stats, type StatsWindow } from '../api.ts';
import { whereTo } from '../subscription-index.ts';
import { Badge } from '../components/badge.tsx';
import { Page } from '../components/page.tsx';
import { Empty, Loaded } from '../components/states.tsx';
import { TimeChart, type ChartSeries } from '../components/time-chart.tsx';
import { ago, count, duration, percent } from '../format.ts';
import { useResource } from '../use-resource.ts';
import { at } from '../paths.ts';

/** The day's figures cost more to compute (a sort of the day's attempts) and move slower. */
const REFRESH_MS: Record<StatsWindow, number> = { '1h': 5000, '24h': 30_000 };
const WINDOW_LABELS: Record<StatsWindow, string> = { '1h': 'last hour', '24h': 'last 24 hours' };

function Figure(props: { label: string; value: string; note?: string; tone?: 'good' | 'bad' | 'warn'; testId: string }) {
  return (
    <div class={`figure${props.tone ? ` tone-${props.tone}` : ''}`} data-testid={props.testId}>
      <dt>{props.label}</dt>
      <dd>
        <span class="figure-value">{props.value}</span>
        {props.note && <span class="figure-note">{props.note}</span>}
      </dd>
    </div>
  );
}

function ms(value: number | null): string {
  return value === null ? '—' : duration(value);
}

function Figures({ stats }: { stats: Stats }) {
  const { attempts, queue, deliveries, subscriptions } = stats;
  const rate = attempts.success_rate;
  const windowLabel = WINDOW_LABELS[stats.window];
  return (
    <dl class="figures">
      <Figure testId="deliveries-hour" label="Deliveries, last hour" value={count(deliveries.last_hour)} />
      <Figure testId="deliveries-day" label="Deliveries, last 24 h" value={count(deliveries.last_24h)} />
      <Figure
        testId="success-rate"
        label="Attempt success rate"
        value={percent(rate)}
        note={`${count(attempts.succeeded)} of ${count(attempts.total)} attempts, ${windowLabel}`}
        {...(rate !== null && { tone: rate >= 0.99 ? 'good' : rate >= 0.9 ? 'warn' : 'bad' })}
      />
      <Figure
        testId="attention"
        label="Subscriptions failing / disabled"
        value={`${subscriptions.failing.length} / ${subscriptions.inactive_total}`}
        note={`failing: failed attempts in the ${windowLabel}`}
        {...(subscriptions.failing.length > 0 && { tone: 'warn' })}
      />
      <Figure testId="latency-p50" label="Attempt latency, median" value={ms(attempts.latency_ms.p50)} note={`p50, ${windowLabel}`} />
      <Figure testId="latency-p95" label="Attempt latency, p95" value={ms(attempts.latency_ms.p95)} note={`95 % took at most this, ${windowLabel}`} />
      <Figure testId="queue-depth" label="Queue depth" value={count(queue.depth)} note={`${count(queue.due_now)} due now, ${count(queue.in_flight)} in flight`} />
      <Figure
        testId="oldest-due"
        label="Oldest due delivery waiting"
        value={queue.oldest_due_age_seconds > 0 ? duration(queue.oldest_due_age_seconds * 1000) : '—'}
        note="0 when workers keep up"
        {...(queue.oldest_due_age_seconds > 60 && { tone: 'warn' })}
      />
    </dl>
  );
}

function Charts({ stats }: { stats: Stats }) {
  const { series } = stats;
  const times = useMemo(() => {
    const start = Date.parse(series.start) / 1000;
    return series.attempts.map((_, i) => start + i * series.bucket_seconds);
  }, [series.start, series.bucket_seconds, series.attempts.length]);
  const perBucket = series.bucket_seconds === 60 ? 'per minute' : `per ${series.bucket_seconds / 60} minutes`;
  const throughput: ChartSeries[] = useMemo(() => [
    { label: 'Attempts', values: series.attempts, color: '#4f46e5', bars: true },
    { label: 'Failures', values: series.failures, color: '#dc2626', bars: true },
  ], [series]);
  const latency: ChartSeries[] = useMemo(() => [
    { label: 'p95 latency', values: series.p95_ms, color: '#0891b2', unit: ' ms' },
  ], [series]);
  return (
    <div class="charts">
      <TimeChart title={`Attempts and failures ${perBucket}`} times={times} series={throughput} />
      <TimeChart title={`p95 attempt latency (ms) ${perBucket}`} times={times} series={latency} />
    </div>
  );
}

function Attention({ stats }: { stats: Stats }) {
  const { failing, inactive, inactive_total: inactiveTotal } = stats.subscriptions;
  return (
    <div class="columns">
      <section class="panel" aria-labelledby="failing-title">
        <h2 id="failing-title">Failing subscriptions <span class="count">{failing.length}</span></h2>
        {failing.length === 0 ? (
          <Empty title={`No failed attempts in the ${WINDOW_LABELS[stats.window]}.`} />
        ) : (
          <ul class="list">
            {failing.map((s) => (
              <li key={s.id}>
                <a href={at(`/subscriptions/${s.id}`)} class="truncate">{whereTo(s)}</a>
                <span class="muted">
                  {count(s.failures)} failed attempt{s.failures === 1 ? '' : 's'} · last {ago(s.last_failure_at)}
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section class="panel" aria-labelledby="inactive-title">
        <h2 id="inactive-title">Disabled subscriptions <span class="count">{inactiveTotal}</span></h2>
        {inactive.length === 0 ? (
          <Empty title="Every subscription is active." />
        ) : (
          <ul class="list">
            {inactive.map((s) => (
              <li key={s.id}>
                <a href={at(`/subscriptions/${s.id}`)} class="truncate">{whereTo(s)}</a>
                <span class="muted"><Badge value="inactive" /> since {ago(s.updated_at)}{s.disabled_reason && ` · ${s.disabled_reason}`}</span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}

export function DashboardPage() {
  const [span, setSpan] = useState<StatsWindow>('1h');
  const stats = useResource((signal) => api.stats(span, signal), [span], REFRESH_MS[span]);
  return (
    <Page
      title="Dashboard"
      subtitle={<span aria-live="off">Refreshes every {REFRESH_MS[span] / 1000} s{stats.loading && stats.data ? ' · refreshing…' : ''}</span>}
      actions={
        <div class="segmented" role="group" aria-label="Time window">
          {(['1h', '24h'] as const).map((w) => (
            <button key={w} type="button" aria-pressed={span === w} onClick={() => setSpan(w)}>
              {w === '1h' ? 'Last hour' : 'Last 24 h'}
            </button>
          ))}
        </div>
      }
    >
      <Loaded resource={stats} what="figures">
        {(data) => (
          <>
            <Figures stats={data} />
            {data.attempts.total === 0 && data.deliveries.last_24h === 0 ? (
              <Empty title="Nothing delivered yet.">
                <p>
                  <a href={at('/subscriptions/new')}>Create a subscription</a>, then send it a test event from its page. Its
                  deliveries, attempts and latency will show up here.
                </p>
              </Empty>
            ) : (
              <Charts stats={data} />
            )}
            <Attention stats={data} />
          </>
        )}
      </Loaded>
    </Page>
  );
}
