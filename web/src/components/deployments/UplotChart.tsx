// A uPlot chart as a React component: made once (again only when `kind` changes), fed new data
// in place as looks arrive (so a live chart keeps its cursor and does not flicker), sized to its
// container's width, with an optional vertical marker (the look that decided) drawn on top.
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Marker {
  /** x in the chart's unit (seconds since the epoch). */
  x: number;
  color: string;
  label: string;
}

export function UplotChart({ kind, options, data, marker, label }: { kind: string; options: (width: number) => uPlot.Options; data: uPlot.AlignedData; marker: Marker | null; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  // The latest data and marker, for a chart made later than they changed, and for the draw hook.
  const latest = useRef({ data, marker, options });
  latest.current = { data, marker, options };

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const base = latest.current.options(Math.max(element.clientWidth, 200));
    const drawMarker = (u: uPlot) => drawVertical(u, latest.current.marker);
    const made = new uPlot({ ...base, hooks: { ...base.hooks, draw: [...(base.hooks?.draw ?? []), drawMarker] } }, latest.current.data, element);
    plot.current = made;
    const resized = new ResizeObserver(() => {
      const width = Math.max(element.clientWidth, 200);
      if (width !== made.width) made.setSize({ width, height: made.height });
    });
    resized.observe(element);
    return () => {
      resized.disconnect();
      made.destroy();
      plot.current = null;
    };
  }, [kind]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data, marker]);

  return <div className="uplot-box" ref={box} role="img" aria-label={label} data-points={data[0]?.length ?? 0} />;
}

/** A dashed vertical line at the marker's x across the plotting area, with its label at the top. */
function drawVertical(u: uPlot, marker: Marker | null): void {
  if (!marker) return;
  const x = Math.round(u.valToPos(marker.x, "x", true));
  const { top, height, left, width } = u.bbox;
  if (x < left - 1 || x > left + width + 1) return;
  const ctx = u.ctx;
  const ratio = uPlot.pxRatio;
  ctx.save();
  ctx.strokeStyle = marker.color;
  ctx.fillStyle = marker.color;
  ctx.lineWidth = 1.5 * ratio;
  ctx.setLineDash([4 * ratio, 3 * ratio]);
  ctx.beginPath();
  ctx.moveTo(x, top);
  ctx.lineTo(x, top + height);
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.font = `${11 * ratio}px system-ui, sans-serif`;
  const text = marker.label;
  const textWidth = ctx.measureText(text).width;
  // Keep the label inside the plot: to the left of the line near the right edge.
  const textX = x + 4 * ratio + textWidth > left + width ? x - 4 * ratio - textWidth : x + 4 * ratio;
  ctx.fillText(text, textX, top + 11 * ratio);
  ctx.restore();
}
