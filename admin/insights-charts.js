// @ts-check
// Small charts in plain SVG for the Insights tab: a sparkline, a stacked variant split bar and a
// bar chart over time. Built with createElementNS and text nodes only (no innerHTML), so flag and
// variant names from the API cannot inject markup.

const NS = "http://www.w3.org/2000/svg";
/** Variant colours, assigned in order of first appearance. */
export const PALETTE = ["#4f46e5", "#16a34a", "#ea580c", "#0891b2", "#c026d3", "#ca8a04", "#dc2626", "#475569"];

/** @param {string} tag @param {Record<string, string | number>} attrs @param {...Node} children */
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.appendChild(c);
  return el;
}

/** @param {string} text */
function title(text) {
  const t = document.createElementNS(NS, "title");
  t.textContent = text;
  return t;
}

/**
 * A sparkline of counts (oldest first) with a filled area; the label says the total.
 * @param {number[]} values
 * @param {{width?: number, height?: number, label?: string}} [opts]
 */
export function sparkline(values, { width = 120, height = 28, label = "" } = {}) {
  const svg = s("svg", {
    class: "spark",
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-label": label,
  });
  if (label) svg.appendChild(title(label));
  const max = Math.max(1, ...values);
  const n = Math.max(1, values.length - 1);
  const pts = values.map((v, i) => [(i / n) * (width - 2) + 1, height - 2 - (v / max) * (height - 4)]);
  if (pts.length === 0) return svg;
  const line = pts.map(([x, y], i) => `${i ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`).join("");
  svg.appendChild(
    s("path", {
      d: `${line}L${pts[pts.length - 1][0].toFixed(1)},${height - 1}L${pts[0][0].toFixed(1)},${height - 1}Z`,
      class: "spark-area",
    }),
  );
  svg.appendChild(s("path", { d: line, class: "spark-line" }));
  return svg;
}

/**
 * One horizontal bar split by variant, with a colour per variant (the `colors` map is filled in).
 * @param {Record<string, number>} variants
 * @param {Map<string, string>} colors
 */
export function splitBar(variants, colors, { width = 140, height = 12 } = {}) {
  const entries = Object.entries(variants)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  const label =
    total === 0
      ? "no evaluations"
      : entries.map(([v, n]) => `${v || "(no variant)"} ${Math.round((n / total) * 100)}%`).join(", ");
  const svg = s("svg", {
    class: "split-bar",
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-label": label,
  });
  svg.appendChild(title(label));
  svg.appendChild(s("rect", { x: 0, y: 0, width, height, rx: 3, class: "split-empty" }));
  let x = 0;
  for (const [variant, n] of entries) {
    if (!colors.has(variant)) colors.set(variant, PALETTE[colors.size % PALETTE.length]);
    const w = (n / total) * width;
    svg.appendChild(
      s(
        "rect",
        { x: x.toFixed(2), y: 0, width: Math.max(0.5, w).toFixed(2), height, fill: colors.get(variant) ?? PALETTE[0] },
        title(`${variant || "(no variant)"}: ${n} (${Math.round((n / total) * 100)}%)`),
      ),
    );
    x += w;
  }
  return svg;
}

/**
 * Stacked bars over time (one per bucket), with the max and the time range as axis labels.
 * @param {{start: string, parts: number[]}[]} buckets
 * @param {{names: string[], colors: string[], width?: number, height?: number, label: string}} opts
 */
export function stackedBars(buckets, { names, colors, width = 560, height = 120, label }) {
  const pad = { top: 14, bottom: 16, left: 4, right: 4 };
  const svg = s("svg", {
    class: "bars",
    width: "100%",
    viewBox: `0 0 ${width} ${height}`,
    preserveAspectRatio: "none",
    role: "img",
    "aria-label": label,
  });
  svg.appendChild(title(label));
  const max = Math.max(1, ...buckets.map((b) => b.parts.reduce((a, c) => a + c, 0)));
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const bw = innerW / Math.max(1, buckets.length);
  buckets.forEach((b, i) => {
    let y = pad.top + innerH;
    b.parts.forEach((v, p) => {
      if (v <= 0) return;
      const hgt = (v / max) * innerH;
      y -= hgt;
      svg.appendChild(
        s(
          "rect",
          {
            x: (pad.left + i * bw + 0.5).toFixed(2),
            y: y.toFixed(2),
            width: Math.max(0.5, bw - 1).toFixed(2),
            height: hgt.toFixed(2),
            fill: colors[p],
          },
          title(`${new Date(b.start).toLocaleTimeString()}: ${names[p]} ${v}`),
        ),
      );
    });
  });
  /** @param {number} x @param {number} y @param {string} anchor @param {string} value */
  const text = (x, y, anchor, value) => {
    const t = s("text", { x, y, "text-anchor": anchor, class: "axis" });
    t.textContent = value;
    return t;
  };
  svg.appendChild(
    s("line", { x1: pad.left, x2: width - pad.right, y1: pad.top + innerH, y2: pad.top + innerH, class: "axis-line" }),
  );
  svg.appendChild(text(pad.left, 10, "start", `max ${max}`));
  if (buckets.length > 0) {
    svg.appendChild(
      text(
        pad.left,
        height - 3,
        "start",
        new Date(buckets[0].start).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }),
      ),
    );
    svg.appendChild(
      text(
        width - pad.right,
        height - 3,
        "end",
        new Date(buckets[buckets.length - 1].start).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }),
      ),
    );
  }
  return svg;
}
