/**
 * A bar chart drawn on the server as SVG (SPEC §15: axes, labels, a `<title>` per point, no
 * client script): bars on the left axis and, optionally, dots of a second series on the right
 * axis. This computes the geometry; partials/admin/chart.hbs draws it.
 */

export interface ChartPoint {
  /** The x-axis label (a day, a campaign name…). */
  label: string;
  bar: number;
  dot?: number;
  /** The tooltip of the point. */
  title: string;
}

export interface ChartInput {
  points: ChartPoint[];
  /** The x-axis title (what a point is: Day, Campaign…). */
  xLabel: string;
  barLabel: string;
  dotLabel?: string;
  /** What the whole chart shows, for screen readers. */
  description: string;
  width?: number;
  height?: number;
}

const MARGIN = { top: 16, right: 56, bottom: 48, left: 56 };
const MAX_X_LABELS = 12;
const TICKS = 4;

/** A round step (1, 2 or 5 × 10ⁿ, at least 1: the figures are counts) so that TICKS steps cover `max`. */
function niceStep(max: number): number {
  const raw = Math.max(1, max / TICKS);
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
}

const short = (label: string, room: number) => {
  const max = Math.max(4, Math.floor(room / 7));
  return label.length > max ? `${label.slice(0, max - 1)}…` : label;
};

export function barChart(input: ChartInput) {
  const width = input.width ?? 720;
  const height = input.height ?? 240;
  const plot = {
    left: MARGIN.left,
    right: width - MARGIN.right,
    top: MARGIN.top,
    bottom: height - MARGIN.bottom,
  };
  const plotWidth = plot.right - plot.left;
  const plotHeight = plot.bottom - plot.top;
  const points = input.points;
  const barStep = niceStep(Math.max(0, ...points.map((p) => p.bar)));
  const dotStep = niceStep(Math.max(0, ...points.map((p) => p.dot ?? 0)));
  const barMax = barStep * TICKS;
  const dotMax = dotStep * TICKS;
  const y = (v: number, max: number) => plot.bottom - (Math.max(0, v) / max) * plotHeight;
  const slot = points.length ? plotWidth / points.length : plotWidth;
  const labelEvery = Math.max(1, Math.ceil(points.length / MAX_X_LABELS));
  const ticks = (step: number, max: number) =>
    Array.from({ length: TICKS + 1 }, (_, i) => ({ y: Math.round(y(i * step, max)), text: String(i * step) }));
  const middle = Math.round((plot.top + plot.bottom) / 2);
  return {
    width,
    height,
    description: input.description,
    plot,
    bars: points.map((p, i) => {
      const top = Math.round(y(p.bar, barMax));
      const x = plot.left + i * slot;
      return {
        x: Math.round(x + slot * 0.15),
        y: top,
        w: Math.max(1, Math.round(slot * 0.7)),
        h: plot.bottom - top,
        cx: Math.round(x + slot / 2),
        // No dot for nothing: a row of dots on the axis hides the bars.
        cy: p.dot ? Math.round(y(p.dot, dotMax)) : null,
        title: p.title,
        label: i % labelEvery === 0 ? short(p.label, slot * labelEvery) : null,
      };
    }),
    xAxis: {
      label: input.xLabel,
      labelY: plot.bottom + 16,
      titleX: Math.round((plot.left + plot.right) / 2),
      titleY: height - 6,
    },
    barAxis: {
      label: input.barLabel,
      ticks: ticks(barStep, barMax),
      tickX: plot.left - 6,
      titleX: 14,
      titleY: middle,
    },
    dotAxis: input.dotLabel
      ? {
          label: input.dotLabel,
          ticks: ticks(dotStep, dotMax),
          tickX: plot.right + 6,
          titleX: width - 10,
          titleY: middle,
        }
      : null,
  };
}

export type BarChart = ReturnType<typeof barChart>;
