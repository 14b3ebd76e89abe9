import { useEffect, useId, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  readonly label: string;
  readonly values: readonly number[];
  /** CSS custom properties of the series' line and fill (they change with the colour scheme). */
  readonly stroke: string;
  readonly fill: string;
}

const DARK = '(prefers-color-scheme: dark)';

/** 'dark' or 'light', following the system setting as it changes. */
function useColorScheme(): 'dark' | 'light' {
  const query = typeof matchMedia === 'function' ? matchMedia(DARK) : undefined;
  const [dark, setDark] = useState(query?.matches ?? false);
  useEffect(() => {
    if (!query) return;
    const on = () => setDark(query.matches);
    query.addEventListener('change', on);
    return () => query.removeEventListener('change', on);
  }, [query]);
  return dark ? 'dark' : 'light';
}

/**
 * Bars over time drawn by uPlot (canvas), the later series over the earlier ones (blocked over
 * screened). Colours come from CSS custom properties, so the chart follows light and dark mode. The
 * canvas says nothing to a screen reader: the same figures are in the table after it (visually hidden),
 * and the totals are written beside the chart.
 */
export function TimeChart(props: {
  title: string;
  /** Bucket starts, epoch ms. */
  times: readonly number[];
  series: readonly ChartSeries[];
  /** How a bucket is named in the table: its time as HH:MM, or as a day and an hour. */
  bucket: 'minute' | 'hour';
  height?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const scheme = useColorScheme();
  const titleId = useId();
  const height = props.height ?? 200;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const css = getComputedStyle(el);
    const v = (name: string) => css.getPropertyValue(name).trim();
    const axis = {
      stroke: v('--muted'),
      grid: { stroke: v('--line'), width: 1 },
      ticks: { stroke: v('--line') },
    };
    const bars = uPlot.paths.bars?.({ size: [0.8, 24] });
    const step = props.bucket === 'minute' ? 60 : 3600;
    const plot = new uPlot(
      {
        width: Math.max(280, el.clientWidth),
        height,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: {
          // Half a bucket of room either side, so that the first and the last bar show whole.
          x: { time: true, range: (_u, min, max) => [min - step / 2, max + step / 2] },
          y: { range: (_u, _min, max) => [0, Math.max(1, max)] },
        },
        axes: [axis, { ...axis, size: 48 }],
        series: [
          {},
          ...props.series.map((s) => ({
            label: s.label,
            stroke: v(s.stroke),
            fill: v(s.fill),
            width: 1,
            paths: bars,
            points: { show: false },
          })),
        ],
      },
      [props.times.map((t) => t / 1000), ...props.series.map((s) => [...s.values])],
      el,
    );
    const resized = new ResizeObserver(() => plot.setSize({ width: Math.max(280, el.clientWidth), height }));
    resized.observe(el);
    return () => {
      resized.disconnect();
      plot.destroy();
    };
  }, [props.times, props.series, props.bucket, scheme, height]);

  const label = (t: number) => {
    const d = new Date(t);
    return props.bucket === 'minute'
      ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
      : d.toLocaleString([], { weekday: 'short', hour: '2-digit', minute: '2-digit' });
  };
  const rows = props.times
    .map((t, i) => ({ t, values: props.series.map((s) => s.values[i] ?? 0) }))
    .filter((r) => r.values.some((n) => n > 0));

  return (
    <figure class="chart" aria-labelledby={titleId}>
      <figcaption id={titleId}>
        <span class="chart-title">{props.title}</span>
        <span class="chart-legend">
          {props.series.map((s) => (
            <span key={s.label} class="legend-item">
              <span class="swatch" style={{ background: `var(${s.stroke})` }} aria-hidden="true" />
              {s.label} <strong>{s.values.reduce((a, b) => a + b, 0)}</strong>
            </span>
          ))}
        </span>
      </figcaption>
      <div class="chart-canvas" ref={box} aria-hidden="true" />
      <table class="sr-only chart-data">
        <caption>
          {props.title} ({props.bucket === 'minute' ? 'minutes' : 'hours'} without calls left out)
        </caption>
        <thead>
          <tr>
            <th scope="col">{props.bucket === 'minute' ? 'Minute' : 'Hour'}</th>
            {props.series.map((s) => (
              <th scope="col" key={s.label}>
                {s.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.t} data-at={new Date(r.t).toISOString()}>
              <th scope="row">{label(r.t)}</th>
              {r.values.map((n, i) => (
                <td key={props.series[i]!.label}>{n}</td>
              ))}
            </tr>
          ))}
          {rows.length === 0 ? (
            <tr>
              <td colSpan={props.series.length + 1}>No calls.</td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </figure>
  );
}
