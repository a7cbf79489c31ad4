import { sparkline } from '../lib/sparkline.ts';

interface SparklineProps {
  values: readonly number[];
  label: string;
  width?: number;
  height?: number;
}

/** A tiny SVG line chart; `label` describes it for screen readers. */
export function Sparkline({ values, label, width = 240, height = 40 }: SparklineProps) {
  const { line, area } = sparkline(values, width, height);
  return (
    <svg
      className="sparkline"
      role="img"
      aria-label={label}
      viewBox={`0 0 ${width} ${height}`}
      width={width}
      height={height}
      preserveAspectRatio="none"
    >
      <title>{label}</title>
      <path d={area} className="sparkline-area" />
      <path d={line} className="sparkline-line" vectorEffect="non-scaling-stroke" />
    </svg>
  );
}
