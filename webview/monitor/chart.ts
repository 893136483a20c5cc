// The lock timeline, drawn by uPlot: time across, one lane per process down the left axis,
// commits per second as a line on the right axis. uPlot draws the axes and the line; the
// holds (bars) and the lock errors (markers) are drawn in its hooks at u.valToPos, so they
// move with its scales. Colours are the theme's, through media/monitor.css's custom properties.
import uPlot from 'uplot';
import type { SqliteLockName } from '../../src/shared/model';
import { LOCK_ORDER, lockVar, type Timeline } from './timeline';

/** Pixels per lane, and what the axes and padding take besides. */
const LANE_PX = 30;
const CHROME_PX = 64;
const MIN_LANES = 2;
const LANE_AXIS_PX = 220;
const CPS_AXIS_PX = 56;

interface Palette {
  fg: string;
  grid: string;
  commits: string;
  marker: string;
  markerText: string;
  markerBack: string;
  blocking: string;
  font: string;
  locks: Record<SqliteLockName, string>;
}

function readPalette(doc: Document): Palette {
  const css = doc.defaultView?.getComputedStyle(doc.body);
  const v = (name: string, fallback: string) => css?.getPropertyValue(name).trim() || fallback;
  const locks = Object.fromEntries(LOCK_ORDER.map((l) => [l, v(lockVar(l), '#888')])) as Record<SqliteLockName, string>;
  const family = v('--vscode-font-family', 'sans-serif');
  return {
    fg: v('--monitor-fg', '#ccc'),
    grid: v('--monitor-grid', 'rgba(128,128,128,0.25)'),
    commits: v('--monitor-commits', '#ccc'),
    marker: v('--monitor-marker', '#f44'),
    markerText: v('--monitor-marker-text', '#fff'),
    markerBack: v('--monitor-marker-back', 'rgba(0,0,0,0.6)'),
    blocking: v('--monitor-blocking', '#f44'),
    font: `${Math.round(11 * uPlot.pxRatio)}px ${family}`,
    locks,
  };
}

export interface TimelineChart {
  update(t: Timeline, commits: [number[], (number | null)[]]): void;
  resize(width: number): void;
  destroy(): void;
}

function heightFor(lanes: number): number {
  return CHROME_PX + Math.max(MIN_LANES, lanes) * LANE_PX;
}

export function createTimeline(container: HTMLElement, doc: Document): TimelineChart {
  let view: Timeline = { from: Date.now() - 60_000, to: Date.now(), lanes: [], bars: [], markers: [] };
  let palette = readPalette(doc);
  const laneAt = (y: number) => view.lanes.find((l) => l.y === y);

  function drawBars(u: uPlot): void {
    const { ctx } = u;
    const { left, top, width, height } = u.bbox;
    const minWidth = Math.max(1, uPlot.pxRatio * 2);
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    for (const b of view.bars) {
      const x0 = u.valToPos(b.from / 1000, 'x', true);
      const x1 = Math.max(x0 + minWidth, u.valToPos(b.to / 1000, 'x', true));
      const y0 = u.valToPos(b.hi, 'lane', true);
      const y1 = u.valToPos(b.lo, 'lane', true);
      ctx.fillStyle = palette.locks[b.lock];
      ctx.fillRect(x0, y0, x1 - x0, y1 - y0);
      if (b.blocksProxy) {
        // Outlined: the holds that kept the proxy from committing stand out whatever their colour.
        ctx.strokeStyle = palette.blocking;
        ctx.lineWidth = uPlot.pxRatio;
        ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
      }
    }
    ctx.restore();
  }

  function drawMarkers(u: uPlot): void {
    const { ctx } = u;
    const { left, top, width, height } = u.bbox;
    const px = uPlot.pxRatio;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    ctx.font = palette.font;
    ctx.textBaseline = 'top';
    const xs = view.markers.map((m) => u.valToPos(m.at / 1000, 'x', true));
    view.markers.forEach((m, i) => {
      const x = xs[i];
      ctx.strokeStyle = palette.marker;
      ctx.lineWidth = 1.5 * px;
      ctx.setLineDash([4 * px, 3 * px]);
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + height);
      ctx.stroke();
      ctx.setLineDash([]);
      // The label runs right of its line, up to the next marker's; two rows so neighbours can both speak.
      const row = i % 2;
      const room = (xs[i + 2] ?? left + width) - x - 6 * px;
      const text = [m.label, m.short].find((s) => ctx.measureText(s).width <= room);
      if (!text) return;
      const y = top + (2 + row * 16) * px;
      const w = ctx.measureText(text).width;
      ctx.fillStyle = palette.markerBack;
      ctx.fillRect(x + 2 * px, y - px, w + 4 * px, 14 * px);
      ctx.fillStyle = palette.markerText;
      ctx.fillText(text, x + 4 * px, y);
    });
    ctx.restore();
  }

  const opts: uPlot.Options = {
    width: container.clientWidth || 600,
    height: heightFor(0),
    legend: { show: false },
    cursor: { y: false, drag: { x: false, y: false }, points: { show: false } },
    scales: {
      x: { time: true, range: () => [view.from / 1000, view.to / 1000] },
      lane: { range: () => [-0.5, Math.max(1, view.lanes.length) - 0.5] },
      cps: { range: (_u, _min, max) => [0, Math.max(1, (max ?? 0) * 1.15)] },
    },
    series: [{}, { label: 'Commits/s', scale: 'cps', stroke: () => palette.commits, width: 1.5, points: { show: false } }],
    axes: [
      { stroke: () => palette.fg, grid: { stroke: () => palette.grid, width: 1 }, ticks: { stroke: () => palette.grid } },
      {
        scale: 'lane',
        side: 3,
        size: LANE_AXIS_PX,
        stroke: () => palette.fg,
        splits: () => view.lanes.map((l) => l.y),
        values: (_u, splits) => splits.map((y) => laneAt(y)?.axisLabel ?? ''),
        grid: { stroke: () => palette.grid, width: 1 },
        ticks: { show: false },
      },
      { scale: 'cps', side: 1, size: CPS_AXIS_PX, label: 'commits/s', stroke: () => palette.fg, grid: { show: false }, ticks: { stroke: () => palette.grid } },
    ],
    // Bars under the commits line (drawAxes comes before the series), markers over everything.
    hooks: { drawAxes: [drawBars], draw: [drawMarkers] },
  };
  const u = new uPlot(opts, [[], []], container);

  // A theme change restyles the page: read the colours again and redraw.
  const themeWatch = new MutationObserver(() => {
    palette = readPalette(doc);
    u.redraw(false);
  });
  themeWatch.observe(doc.body, { attributes: true, attributeFilter: ['class'] });
  themeWatch.observe(doc.documentElement, { attributes: true, attributeFilter: ['style'] });

  return {
    update(t, commits) {
      const lanesChanged = t.lanes.length !== view.lanes.length;
      view = t;
      if (lanesChanged) u.setSize({ width: u.width, height: heightFor(t.lanes.length) });
      u.setData(commits);
    },
    resize(width) {
      if (width > 0 && width !== u.width) u.setSize({ width, height: heightFor(view.lanes.length) });
    },
    destroy() {
      themeWatch.disconnect();
      u.destroy();
    },
  };
}
