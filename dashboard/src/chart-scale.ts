/** One line of a chart: its name and a value per bucket (null: no value, a gap in the line). */
export interface Series {
  name: string;
  values: readonly (number | null)[];
}

/** The smallest 1, 2 or 5 times a power of ten at or above `value`, so the axis reads well. */
export function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/**
 * SVG path data of each series in a `width` × `height` box, with y growing downwards as SVG's
 * does; a null value breaks the line. Each value sits in the middle of its bucket, as the bars of
 * the bar chart do, and a value with no neighbour is drawn as a short level stroke across its
 * bucket: a lone point at the edge of the box would not show.
 */
export function linePaths(series: readonly Series[], width: number, height: number, max: number): string[] {
  const count = Math.max(0, ...series.map((line) => line.values.length));
  const step = count > 0 ? width / count : width;
  const y = (value: number) => height - (Math.min(value, max) / max) * height;
  return series.map((line) => {
    const parts: string[] = [];
    line.values.forEach((value, index) => {
      if (value === null) return;
      const x = (index + 0.5) * step;
      const before = line.values[index - 1];
      const after = line.values[index + 1];
      const joined = before !== undefined && before !== null;
      if (joined) parts.push(`L${round(x)} ${round(y(value))}`);
      else if (after === undefined || after === null)
        parts.push(`M${round(x - step * 0.4)} ${round(y(value))}L${round(x + step * 0.4)} ${round(y(value))}`);
      else parts.push(`M${round(x)} ${round(y(value))}`);
    });
    return parts.join("");
  });
}

/** Bars of `values` in a `width` × `height` box: x, y, width and height of each, a gap between. */
export function bars(
  values: readonly number[],
  width: number,
  height: number,
  max: number,
): { x: number; y: number; width: number; height: number }[] {
  if (values.length === 0) return [];
  const slot = width / values.length;
  const barWidth = Math.max(1, slot * 0.8);
  return values.map((value, index) => {
    const barHeight = (Math.min(Math.max(value, 0), max) / max) * height;
    return {
      x: round(index * slot + (slot - barWidth) / 2),
      y: round(height - barHeight),
      width: round(barWidth),
      height: round(barHeight),
    };
  });
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
