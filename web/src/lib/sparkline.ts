export interface SparklineGeometry {
  /** The line through the points (an SVG path). */
  line: string;
  /** The same line closed along the bottom edge, to fill. */
  area: string;
  max: number;
}

const round = (n: number): number => Math.round(n * 10) / 10;

/**
 * The paths of a sparkline for `values` in a `width` × `height` box: the first value at the
 * left edge, the last at the right, zero at the bottom and the largest value at the top.
 */
export function sparkline(
  values: readonly number[],
  width: number,
  height: number,
): SparklineGeometry {
  const max = Math.max(0, ...values);
  if (values.length === 0) return { line: '', area: '', max };
  const pad = 1; // keep the stroke inside the box
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  const y = (v: number): number =>
    round(max === 0 ? height - pad : height - pad - (v / max) * (height - 2 * pad));
  const points = values.map((v, i) => `${round(i * step)},${y(v)}`);
  const line = `M${points.join(' L')}`;
  const lastX = round((values.length - 1) * step);
  const area = `${line} L${lastX},${height} L0,${height} Z`;
  return { line, area, max };
}
