import { useEffect, useRef, useState, type ReactNode } from 'react';

/**
 * Charts as plain SVG: one picture (role="img") whose aria-label says what it shows; the same
 * numbers are always in a table or list next to it for reading and for screen readers. Each chart
 * is drawn at the width it is shown (one SVG unit = one CSS pixel), so its text keeps its size on
 * a phone instead of shrinking with the picture.
 */

export interface Bar {
  label: string;
  value: number;
}

const MAX_WIDTH = 720;
const CHAR_WIDTH = 7.5; // about 14 px text

/** The width the chart's box has (follows resizing). */
function Measured({ children }: { children: (width: number) => ReactNode }) {
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(0);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = () => setWidth(Math.min(MAX_WIDTH, Math.floor(el.clientWidth)));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  return (
    <div ref={box} className="chart-box">
      {width > 0 && children(width)}
    </div>
  );
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, Math.max(1, max - 1))}…` : text;
}

/** Horizontal bars with their labels at the left and the value at the bar's end. */
export function BarChart({ bars, label }: { bars: readonly Bar[]; label: string }) {
  return <Measured>{(width) => <BarChartAt bars={bars} label={label} width={width} />}</Measured>;
}

function BarChartAt({ bars, label, width }: { bars: readonly Bar[]; label: string; width: number }) {
  const row = 30;
  const labelWidth = Math.min(200, Math.round(width * 0.42));
  const valueWidth = 40;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const height = bars.length * row + 4;
  const scale = Math.max(1, width - labelWidth - valueWidth) / max;
  return (
    <svg className="chart" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
      {bars.map((b, i) => {
        const y = i * row + 4;
        const w = Math.max(b.value > 0 ? 2 : 0, b.value * scale);
        return (
          <g key={`${b.label}-${i}`}>
            <text className="chart-label" x={labelWidth - 8} y={y + row / 2} textAnchor="end" dominantBaseline="middle">
              {shorten(b.label, Math.floor((labelWidth - 10) / CHAR_WIDTH))}
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
export function ColumnChart({ bars, label }: { bars: readonly Bar[]; label: string }) {
  return <Measured>{(width) => <ColumnChartAt bars={bars} label={label} width={width} />}</Measured>;
}

function ColumnChartAt({ bars, label, width }: { bars: readonly Bar[]; label: string; width: number }) {
  const height = 220;
  const top = 12;
  const bottom = 32;
  const left = 36;
  const right = 8;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const step = plotWidth / Math.max(1, bars.length);
  const barWidth = Math.max(1, Math.min(56, step * 0.8));
  const longest = Math.max(...bars.map((b) => b.label.length), 1) * CHAR_WIDTH + 12;
  const fits = Math.max(2, Math.floor(plotWidth / longest));
  const named = new Set(bars.length <= fits ? bars.map((_b, i) => i) : fits >= 3 ? [0, Math.floor((bars.length - 1) / 2), bars.length - 1] : [0, bars.length - 1]);
  return (
    <svg className="chart" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
      <line className="chart-axis" x1={left} y1={top + plotHeight} x2={width - right} y2={top + plotHeight} />
      <line className="chart-axis" x1={left} y1={top} x2={left} y2={top + plotHeight} />
      <text className="chart-value" x={left - 6} y={top} textAnchor="end" dominantBaseline="middle">
        {max}
      </text>
      <text className="chart-value" x={left - 6} y={top + plotHeight} textAnchor="end" dominantBaseline="middle">
        0
      </text>
      {bars.map((b, i) => {
        const h = (b.value / max) * plotHeight;
        const centre = left + i * step + step / 2;
        const half = longest / 2;
        return (
          <g key={`${b.label}-${i}`}>
            <rect className="chart-bar" x={centre - barWidth / 2} y={top + plotHeight - h} width={barWidth} height={h} />
            {named.has(i) && (
              <text className="chart-label" x={Math.min(Math.max(centre, left + half - 6), width - half)} y={height - 10} textAnchor="middle">
                {b.label}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}
