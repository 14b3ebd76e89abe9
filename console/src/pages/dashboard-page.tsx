import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { get, messageOf } from '../api';
import { nameOf, useCatalog } from '../catalog';
import { type ChartSeries, TimeChart } from '../components/time-chart';
import { Notice } from '../components/ui';
import { useLatestRequest } from '../latest-request';
import { formatTime } from '../model';

interface Bucket {
  at: string;
  screened: number;
  blocked: number;
}
interface Series {
  bucketSeconds: number;
  screened: number;
  blocked: number;
  buckets: Bucket[];
}
interface CallStats {
  generatedAt: string;
  lastHour: Series;
  lastWeek: Series;
  blocksByType: Array<{ typeId: string | null; blocked: number }>;
  blocksByGroup: Array<{ groupId: string | null; blocked: number }>;
  blockedWithoutRule: number;
  blockedByDeletedRules: number;
  topRules: Array<{
    ruleId: number;
    hits: number;
    lastHitAt: string | null;
    rule: {
      called?: string;
      calling?: string;
      direction: string;
      action: string;
      groupId?: string;
      typeId?: string;
    } | null;
  }>;
}
interface Health {
  generatedAt: string;
  deliveries: Array<{ type: string; delivered: number; deadLettered: number; retrying: number | null }>;
  deadLetters: number;
  nodes: Array<{
    node: string;
    reportedAt: string;
    loaded: boolean;
    version: string;
    rules: number;
    connected: boolean;
    stalenessSeconds: number | null;
  }>;
}

/** The dashboard reads its figures again this often while the tab is visible. */
const REFRESH_MS = 30_000;
/** A node this far behind is shown as a problem. */
const STALE_SECONDS = 30;

const EVENT_LABELS: Record<string, string> = { 'agent.popup': 'Pop-ups', 'call.wrapped_up': 'Wrap-ups' };

/** A share of a total as a bar (for the eye) and a percentage (for everyone). */
/** One "blocks by …" table: a row per type or group with its count and share of the week's blocks. */
function BlocksTable(props: {
  id: string;
  title: string;
  column: string;
  total: number;
  rows: ReadonlyArray<{ key: string; label: string; blocked: number }>;
  /** Shown as the last row when set. */
  empty: string | undefined;
}) {
  return (
    <section class="card" aria-labelledby={`${props.id}-title`}>
      <h2 id={`${props.id}-title`}>{props.title}</h2>
      <table class={`figures ${props.id}`}>
        <thead>
          <tr>
            <th scope="col">{props.column}</th>
            <th scope="col">Blocked</th>
            <th scope="col">Share</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr key={r.key}>
              <th scope="row">{r.label}</th>
              <td>{r.blocked}</td>
              <Share n={r.blocked} total={props.total} />
            </tr>
          ))}
          {props.empty !== undefined ? (
            <tr>
              <td colSpan={3} class="empty">
                {props.empty}
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </section>
  );
}

function Share(props: { n: number; total: number }) {
  const pct = props.total > 0 ? Math.round((props.n / props.total) * 100) : 0;
  return (
    <td class="share">
      <span class="bar" aria-hidden="true">
        <span style={{ width: `${pct}%` }} />
      </span>
      {pct}%
    </td>
  );
}

function seriesOf(s: Series): { times: number[]; series: ChartSeries[] } {
  return {
    times: s.buckets.map((b) => Date.parse(b.at)),
    series: [
      {
        label: 'Screened',
        values: s.buckets.map((b) => b.screened),
        stroke: '--chart-screened',
        fill: '--chart-screened-fill',
      },
      {
        label: 'Blocked',
        values: s.buckets.map((b) => b.blocked),
        stroke: '--chart-blocked',
        fill: '--chart-blocked-fill',
      },
    ],
  };
}

function staleness(seconds: number | null): { text: string; kind: 'ok' | 'block' } {
  if (seconds === null) return { text: 'rules never loaded', kind: 'block' };
  if (seconds === 0) return { text: 'current', kind: 'ok' };
  const text = seconds < 120 ? `${seconds} s behind` : `${Math.round(seconds / 60)} min behind`;
  return { text, kind: seconds > STALE_SECONDS ? 'block' : 'ok' };
}

/** The landing page: what callguard did lately, and whether its deliveries and call nodes are well. */
export function DashboardPage() {
  const catalog = useCatalog();
  const [stats, setStats] = useState<CallStats>();
  const [health, setHealth] = useState<Health>();
  const [error, setError] = useState<string>();
  const beginRequest = useLatestRequest();

  const load = useCallback(async () => {
    const newest = beginRequest();
    // Each half shows as soon as it is in; one that fails does not hide the other.
    const [s, h] = await Promise.allSettled([
      get<CallStats>('/v1/stats/calls'),
      get<Health>('/v1/stats/health'),
    ]);
    if (!newest()) return;
    if (s.status === 'fulfilled') setStats(s.value);
    if (h.status === 'fulfilled') setHealth(h.value);
    const failed = [s, h].find((r) => r.status === 'rejected');
    setError(failed ? messageOf(failed.reason) : undefined);
  }, [beginRequest]);

  useEffect(() => {
    void load();
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void load();
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [load]);

  const hour = useMemo(() => (stats ? seriesOf(stats.lastHour) : undefined), [stats]);
  const week = useMemo(() => (stats ? seriesOf(stats.lastWeek) : undefined), [stats]);
  const blockedWeek = stats?.lastWeek.blocked ?? 0;

  return (
    <section aria-labelledby="dashboard-title" class="page dashboard">
      <div class="page-head">
        <h1 id="dashboard-title">Dashboard</h1>
        <div class="toolbar">
          {stats ? <span class="muted">Updated {formatTime(Date.parse(stats.generatedAt))}</span> : null}
          <button type="button" onClick={() => void load()}>
            Refresh
          </button>
        </div>
      </div>
      {error ? <Notice kind="error">{error}</Notice> : null}

      {stats ? (
        <dl class="tiles">
          <Tile label="Screened, last hour" figure="hour-screened" value={stats.lastHour.screened} />
          <Tile label="Blocked, last hour" figure="hour-blocked" value={stats.lastHour.blocked} />
          <Tile label="Screened, last 7 days" figure="week-screened" value={stats.lastWeek.screened} />
          <Tile label="Blocked, last 7 days" figure="week-blocked" value={stats.lastWeek.blocked} />
        </dl>
      ) : null}

      <div class="charts">
        {hour ? (
          <TimeChart
            title="Calls per minute, last hour"
            bucket="minute"
            times={hour.times}
            series={hour.series}
          />
        ) : null}
        {week ? (
          <TimeChart
            title="Calls per hour, last 7 days"
            bucket="hour"
            times={week.times}
            series={week.series}
          />
        ) : null}
      </div>

      {stats ? (
        <div class="panels">
          <BlocksTable
            id="by-type"
            title="Blocks by type, last 7 days"
            column="Type"
            total={blockedWeek}
            rows={[
              ...stats.blocksByType.map((t) => ({
                key: t.typeId ?? '',
                label: t.typeId === null ? 'No type' : nameOf(catalog.types, t.typeId),
                blocked: t.blocked,
              })),
              ...(stats.blockedWithoutRule > 0
                ? [
                    {
                      key: ' none',
                      label: 'No rule (default or failure policy)',
                      blocked: stats.blockedWithoutRule,
                    },
                  ]
                : []),
              ...(stats.blockedByDeletedRules > 0
                ? [{ key: ' deleted', label: 'Rules deleted since', blocked: stats.blockedByDeletedRules }]
                : []),
            ]}
            empty={blockedWeek === 0 ? 'No blocks.' : undefined}
          />

          <BlocksTable
            id="by-group"
            title="Blocks by group, last 7 days"
            column="Group"
            total={blockedWeek}
            rows={stats.blocksByGroup.map((g) => ({
              key: g.groupId ?? '',
              label: g.groupId === null ? 'Global rules (no group)' : nameOf(catalog.groups, g.groupId),
              blocked: g.blocked,
            }))}
            empty={stats.blocksByGroup.length === 0 ? 'No blocks by a rule.' : undefined}
          />

          <section class="card wide" aria-labelledby="top-rules-title">
            <h2 id="top-rules-title">Top {stats.topRules.length || 10} rules by hits</h2>
            <table class="figures top-rules">
              <thead>
                <tr>
                  <th scope="col">Rule</th>
                  <th scope="col">Direction</th>
                  <th scope="col">Action</th>
                  <th scope="col">Type</th>
                  <th scope="col">Group</th>
                  <th scope="col">Hits</th>
                  <th scope="col">Last hit</th>
                </tr>
              </thead>
              <tbody>
                {stats.topRules.map((r) => (
                  <tr key={r.ruleId} data-rule-id={r.ruleId}>
                    <th scope="row">
                      {r.rule ? (
                        <a href={`#/blocklist/rule/${r.ruleId}`}>
                          <span class="mono">{r.rule.called ?? r.rule.calling}</span>
                          <span class="sr-only"> (rule {r.ruleId})</span>
                        </a>
                      ) : (
                        <span class="muted">rule {r.ruleId} (deleted)</span>
                      )}
                    </th>
                    <td>{r.rule?.direction ?? ''}</td>
                    <td>{r.rule ? <span class={`badge ${r.rule.action}`}>{r.rule.action}</span> : ''}</td>
                    <td>{nameOf(catalog.types, r.rule?.typeId)}</td>
                    <td>{nameOf(catalog.groups, r.rule?.groupId)}</td>
                    <td>{r.hits}</td>
                    <td>{r.lastHitAt ? formatTime(Date.parse(r.lastHitAt)) : ''}</td>
                  </tr>
                ))}
                {stats.topRules.length === 0 ? (
                  <tr>
                    <td colSpan={7} class="empty">
                      No rule has matched a call yet.
                    </td>
                  </tr>
                ) : null}
              </tbody>
            </table>
          </section>
        </div>
      ) : null}

      {health ? (
        <div class="panels">
          <section class="card" aria-labelledby="delivery-title">
            <h2 id="delivery-title">Pop-up and wrap-up delivery</h2>
            <table class="figures deliveries">
              <thead>
                <tr>
                  <th scope="col">Webhook</th>
                  <th scope="col">Delivered, 7 days</th>
                  <th scope="col">Retrying now</th>
                  <th scope="col">Dead-lettered, 7 days</th>
                </tr>
              </thead>
              <tbody>
                {health.deliveries.map((d) => (
                  <tr key={d.type} data-type={d.type}>
                    <th scope="row">{EVENT_LABELS[d.type] ?? d.type}</th>
                    <td>{d.delivered}</td>
                    <td>{d.retrying ?? 'unknown'}</td>
                    <td>{d.deadLettered}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <p>
              {health.deadLetters === 0 ? (
                'No dead letters waiting.'
              ) : (
                <a href="#/dead-letters">
                  {health.deadLetters} dead {health.deadLetters === 1 ? 'letter' : 'letters'} waiting
                </a>
              )}
            </p>
          </section>

          <section class="card" aria-labelledby="nodes-title">
            <h2 id="nodes-title">Call nodes’ rule sync</h2>
            <table class="figures nodes">
              <thead>
                <tr>
                  <th scope="col">Node</th>
                  <th scope="col">Change stream</th>
                  <th scope="col">Sync</th>
                  <th scope="col">Last report</th>
                </tr>
              </thead>
              <tbody>
                {health.nodes.map((n) => {
                  const s = staleness(n.stalenessSeconds);
                  return (
                    <tr key={n.node}>
                      <th scope="row" class="mono">
                        {n.node}
                      </th>
                      <td>{n.connected ? 'connected' : 'not connected'}</td>
                      <td>
                        <span class={`badge ${s.kind === 'ok' ? 'allow' : 'block'}`}>{s.text}</span>
                      </td>
                      <td>{formatTime(Date.parse(n.reportedAt))}</td>
                    </tr>
                  );
                })}
                {health.nodes.length === 0 ? (
                  <tr>
                    <td colSpan={4} class="empty">
                      No call node has reported on this tenant’s rules.
                    </td>
                  </tr>
                ) : null}
              </tbody>
            </table>
          </section>
        </div>
      ) : null}
    </section>
  );
}

/** One figure of the dashboard's tiles; `figure` names it for the end-to-end tests. */
function Tile(props: { label: string; figure: string; value: number }) {
  return (
    <div class="tile">
      <dt class="tile-label">{props.label}</dt>
      <dd class="tile-value" data-figure={props.figure}>
        {props.value}
      </dd>
    </div>
  );
}
