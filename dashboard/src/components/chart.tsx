import type { ComponentChildren } from "preact";
import { bars, linePaths, niceMax, type Series } from "../chart-scale.ts";

const WIDTH = 300;
const HEIGHT = 100;
/** Room above the top of the scale, so a line at the maximum is not cut in half by the edge. */
const HEADROOM = 4;

interface ChartFrameProps {
  title: string;
  /** What the chart shows, read out instead of the drawing. */
  summary: string;
  max: number;
  unit: string;
  children: ComponentChildren;
  legend?: { name: string; className: string }[];
}

function ChartFrame({ title, summary, max, unit, children, legend }: ChartFrameProps) {
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div class="chart-body">
        <span class="axis" aria-hidden="true">
          <span>
            {formatTick(max)}
            {unit}
          </span>
          <span>0</span>
        </span>
        <svg
          viewBox={`0 ${-HEADROOM} ${WIDTH} ${HEIGHT + HEADROOM}`}
          preserveAspectRatio="none"
          role="img"
          aria-label={summary}
        >
          <line class="grid" x1="0" y1={HEIGHT / 2} x2={WIDTH} y2={HEIGHT / 2} />
          {children}
        </svg>
      </div>
      {legend !== undefined ? (
        <ul class="legend">
          {legend.map((item) => (
            <li key={item.name}>
              <span class={`swatch ${item.className}`} aria-hidden="true" />
              {item.name}
            </li>
          ))}
        </ul>
      ) : null}
      <p class="muted small">last 5 minutes, oldest left</p>
    </figure>
  );
}

function formatTick(value: number): string {
  return value >= 1000 ? `${value / 1000}k` : String(value);
}

/** A bar per bucket. */
export function BarChart({ title, values, unit }: { title: string; values: readonly number[]; unit: string }) {
  const max = niceMax(Math.max(0, ...values));
  const total = values.reduce((sum, value) => sum + value, 0);
  const summary = `${title}: ${total} in the last ${values.length} buckets, at most ${Math.max(0, ...values)} in one`;
  return (
    <ChartFrame title={title} summary={summary} max={max} unit={unit}>
      {bars(values, WIDTH, HEIGHT, max).map((bar, index) => (
        <rect key={index} class="bar" x={bar.x} y={bar.y} width={bar.width} height={bar.height} />
      ))}
    </ChartFrame>
  );
}

/** Lines over the buckets, one per series, with a legend. */
export function LineChart({
  title,
  series,
  unit,
  fixedMax,
}: {
  title: string;
  series: readonly Series[];
  unit: string;
  fixedMax?: number;
}) {
  const values = series.flatMap((line) => line.values.filter((value): value is number => value !== null));
  const max = fixedMax ?? niceMax(Math.max(0, ...values));
  const latest = series
    .map((line) => {
      const last = [...line.values].reverse().find((value) => value !== null);
      return `${line.name} ${last === undefined || last === null ? "none" : `${Math.round(last)}${unit}`}`;
    })
    .join(", ");
  const legend = series.map((line, index) => ({ name: line.name, className: `series-${index}` }));
  return (
    <ChartFrame title={title} summary={`${title}, latest: ${latest}`} max={max} unit={unit} legend={legend}>
      {linePaths(series, WIDTH, HEIGHT, max).map((path, index) => (
        <path key={index} class={`line series-${index}`} d={path} vector-effect="non-scaling-stroke" />
      ))}
    </ChartFrame>
  );
}
