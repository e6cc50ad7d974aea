/**
 * Charts as plain SVG: one picture (role="img") whose aria-label says what it shows; the same
 * numbers are always in a table or list next to it for reading and for screen readers.
 */

export interface Bar {
  label: string;
  value: number;
}

const WIDTH = 560;

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Horizontal bars with their labels at the left and the value at the bar's end. */
export function BarChart({ bars, label, id }: { bars: readonly Bar[]; label: string; id?: string }) {
  const row = 30;
  const labelWidth = 190;
  const valueWidth = 44;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const height = bars.length * row + 4;
  const scale = (WIDTH - labelWidth - valueWidth) / max;
  return (
    <svg className="chart" id={id} viewBox={`0 0 ${WIDTH} ${height}`} role="img" aria-label={label} preserveAspectRatio="xMinYMin meet">
      {bars.map((b, i) => {
        const y = i * row + 4;
        const w = Math.max(b.value > 0 ? 2 : 0, b.value * scale);
        return (
          <g key={`${b.label}-${i}`}>
            <text className="chart-label" x={labelWidth - 8} y={y + row / 2} textAnchor="end" dominantBaseline="middle">
              {shorten(b.label, 24)}
            </text>
            <rect className="chart-bar" x={labelWidth} y={y + 4} width={w} height={row - 10} rx={2} />
            <text className="chart-value" x={labelWidth + w + 6} y={y + row / 2} dominantBaseline="middle">
              {b.value}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

/** Columns over time, with the first, middle and last period named under the axis. */
export function ColumnChart({ bars, label, id }: { bars: readonly Bar[]; label: string; id?: string }) {
  const height = 240;
  const top = 20;
  const bottom = 36;
  const left = 40;
  const plotWidth = WIDTH - left - 8;
  const plotHeight = height - top - bottom;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const step = plotWidth / Math.max(1, bars.length);
  const gap = Math.min(6, step * 0.2);
  const named = new Set(bars.length <= 8 ? bars.map((_b, i) => i) : [0, Math.floor((bars.length - 1) / 2), bars.length - 1]);
  return (
    <svg className="chart" id={id} viewBox={`0 0 ${WIDTH} ${height}`} role="img" aria-label={label} preserveAspectRatio="xMinYMin meet">
      <line className="chart-axis" x1={left} y1={top + plotHeight} x2={WIDTH - 8} y2={top + plotHeight} />
      <line className="chart-axis" x1={left} y1={top} x2={left} y2={top + plotHeight} />
      <text className="chart-value" x={left - 6} y={top} textAnchor="end" dominantBaseline="middle">
        {max}
      </text>
      <text className="chart-value" x={left - 6} y={top + plotHeight} textAnchor="end" dominantBaseline="middle">
        0
      </text>
      {bars.map((b, i) => {
        const h = (b.value / max) * plotHeight;
        const x = left + i * step + gap / 2;
        return (
          <g key={`${b.label}-${i}`}>
            <rect className="chart-bar" x={x} y={top + plotHeight - h} width={Math.max(1, step - gap)} height={h} />
            {named.has(i) && (
              <text className="chart-label" x={Math.min(Math.max(x + (step - gap) / 2, left + 30), WIDTH - 40)} y={height - 12} textAnchor="middle">
                {b.label}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}
