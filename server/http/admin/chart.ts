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

/** One series of a line chart: a value per x position (the same positions for every series). */
export interface LineSeries {
  name: string;
  values: number[];
  /** Tooltip per point. */
  titles: string[];
  /** Drawn dashed (the previous period). */
  dashed?: boolean;
}

export interface LineChartInput {
  /** The x positions' labels (days). */
  labels: string[];
  series: LineSeries[];
  xLabel: string;
  yLabel: string;
  /** Tick text of a y value (money or counts). */
  format?: (v: number) => string;
  description: string;
  /** Shown inside the plot when every value is zero or there are no positions. */
  emptyText?: string;
  width?: number;
  height?: number;
}

/** A step of 1, 2 or 5 × 10ⁿ (any size: amounts can be fractions) so that TICKS steps cover `span`. */
function niceSpan(span: number): number {
  const raw = span / TICKS;
  if (raw <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw - 1e-12) ?? raw;
}

/**
 * A line chart over time drawn on the server as SVG (SPEC §15): axes with ticks, axis titles, a
 * `<title>` per point, the previous period dashed, an empty state. Negative values (a loss) go
 * below a zero line. partials/admin/line-chart.hbs draws it.
 */
export function lineChart(input: LineChartInput) {
  const width = input.width ?? 720;
  const height = input.height ?? 240;
  const plot = { left: 72, right: width - 16, top: 16, bottom: height - 48 };
  const plotWidth = plot.right - plot.left;
  const plotHeight = plot.bottom - plot.top;
  const all = input.series.flatMap((s) => s.values);
  const empty = !input.labels.length || all.every((v) => v === 0);
  const rawMax = Math.max(0, ...all);
  const rawMin = Math.min(0, ...all);
  const step = niceSpan(Math.max(rawMax - rawMin, 1e-9) || 1);
  const min = Math.floor(rawMin / step) * step;
  let max = Math.ceil(rawMax / step) * step;
  if (max <= min) max = min + step * TICKS;
  const y = (v: number) => Math.round(plot.bottom - ((v - min) / (max - min)) * plotHeight);
  const n = input.labels.length;
  const x = (i: number) => Math.round(n <= 1 ? (plot.left + plot.right) / 2 : plot.left + (i / (n - 1)) * plotWidth);
  const format = input.format ?? ((v: number) => String(Math.round(v * 100) / 100));
  const ticks: Array<{ y: number; text: string }> = [];
  for (let v = min; v <= max + step / 2; v += step) ticks.push({ y: y(v), text: format(v) });
  const labelEvery = Math.max(1, Math.ceil(n / MAX_X_LABELS));
  return {
    width,
    height,
    description: input.description,
    plot,
    empty,
    emptyText: input.emptyText ?? 'Nothing recorded in this period',
    middle: { x: Math.round((plot.left + plot.right) / 2), y: Math.round((plot.top + plot.bottom) / 2) },
    zeroY: y(0),
    yAxis: {
      label: input.yLabel,
      ticks,
      tickX: plot.left - 6,
      titleX: 14,
      titleY: Math.round((plot.top + plot.bottom) / 2),
    },
    xAxis: {
      label: input.xLabel,
      labelY: plot.bottom + 16,
      titleX: Math.round((plot.left + plot.right) / 2),
      titleY: height - 6,
      // Every labelEvery-th position and always the last (the latest day), which takes the place
      // of a neighbour too close to it.
      labels: input.labels
        .map((label, i) => ({
          x: x(i),
          text: short(label, Math.max(80, (plotWidth / Math.max(1, n)) * labelEvery)),
          show: i === n - 1 || (i % labelEvery === 0 && n - 1 - i >= labelEvery),
        }))
        .filter((l) => l.show),
    },
    series: empty
      ? []
      : input.series.map((s, k) => ({
          name: s.name,
          dashed: Boolean(s.dashed),
          className: `series-${k}${s.dashed ? ' previous' : ''}`,
          path: s.values.map((v, i) => `${i ? 'L' : 'M'}${x(i)} ${y(v)}`).join(' '),
          points: s.values.map((v, i) => ({ cx: x(i), cy: y(v), title: s.titles[i] ?? '' })),
        })),
  };
}

export type LineChart = ReturnType<typeof lineChart>;
