// A time-series chart drawn by uPlot, as wide as its container.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  color: string;
  /** Draw as bars rather than a line. */
  bars?: boolean;
  unit?: string;
}

export function TimeChart(props: { title: string; times: number[]; series: ChartSeries[]; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const height = props.height ?? 200;

  useEffect(() => {
    const element = box.current!;
    const options: uPlot.Options = {
      width: Math.max(200, element.clientWidth),
      height,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] } },
      axes: [
        { stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,0.15)' } },
        { stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,0.15)' }, size: 50 },
      ],
      series: [
        {},
        ...props.series.map((s): uPlot.Series => ({
          label: s.label,
          stroke: s.color,
          fill: s.bars ? `${s.color}99` : `${s.color}22`,
          width: s.bars ? 0 : 2,
          spanGaps: false,
          // A lone value between gaps is a point, not a line: mark each one.
          points: { show: !s.bars, size: 5, fill: s.color },
          value: (_u, v) => (v == null ? '—' : `${v}${s.unit ?? ''}`),
          ...(s.bars && { paths: uPlot.paths.bars!({ size: [0.8, 40] }) }),
        })),
      ],
    };
    plot.current = new uPlot(options, [props.times, ...props.series.map((s) => s.values)] as uPlot.AlignedData, element);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(200, element.clientWidth), height }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // Built once per set of series; new data goes through setData below.
  }, [props.series.map((s) => s.label).join('|'), height]);

  useEffect(() => {
    plot.current?.setData([props.times, ...props.series.map((s) => s.values)] as uPlot.AlignedData);
  }, [props.times, props.series]);

  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <div ref={box} class="chart-box" role="img" aria-label={props.title} />
    </figure>
  );
}
