// A self-contained HTML report (inline CSS and SVG, no scripts or network) that any evaluation can
// add sections to: text, tables and grouped bar charts.

export interface TextSection {
  kind: "text";
  title?: string;
  /** Plain text; blank lines separate paragraphs. */
  text: string;
}

export interface TableSection {
  kind: "table";
  title?: string;
  columns: string[];
  rows: (string | number | null)[][];
}

export interface BarChartSection {
  kind: "bars";
  title?: string;
  /** One group of bars per category (e.g. per CWE). */
  categories: string[];
  /** One bar per series in each group (e.g. per strategy); values in [0, max]. */
  series: { name: string; values: (number | null)[]; low?: (number | null)[]; high?: (number | null)[] }[];
  max?: number;
  /** Format of value labels, e.g. percent. */
  percent?: boolean;
}

/** Texts side by side (e.g. two completions of one prompt), each line optionally marked as one
 * that the other column lacks. */
export interface ColumnsSection {
  kind: "columns";
  title?: string;
  note?: string;
  columns: { heading: string; lines: { text: string; changed: boolean }[] }[];
}

export type ReportSection = TextSection | TableSection | BarChartSection | ColumnsSection;

export interface Report {
  title: string;
  subtitle?: string;
  sections: ReportSection[];
}

const COLOURS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f"];

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);
}

function fmt(v: number | null, percent: boolean): string {
  if (v === null || Number.isNaN(v)) return "–";
  return percent ? `${(v * 100).toFixed(1)}%` : Number.isInteger(v) ? String(v) : v.toFixed(3);
}

export function renderBarChart(s: BarChartSection): string {
  const max = s.max ?? Math.max(1e-9, ...s.series.flatMap((x) => x.values.map((v) => v ?? 0)));
  const barW = 22;
  const gap = 4;
  const groupW = s.series.length * (barW + gap) + 24;
  const plotH = 200;
  const left = 48;
  const top = 16;
  const width = left + s.categories.length * groupW + 16;
  const height = top + plotH + 64 + s.series.length * 0;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height + 24}" role="img">`);
  for (let k = 0; k <= 4; k++) {
    const y = top + plotH - (plotH * k) / 4;
    parts.push(`<line x1="${left}" x2="${width - 8}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 6}" y="${y + 4}" font-size="10" text-anchor="end">${fmt((max * k) / 4, Boolean(s.percent))}</text>`);
  }
  s.categories.forEach((cat, ci) => {
    const gx = left + ci * groupW + 12;
    s.series.forEach((ser, si) => {
      const v = ser.values[ci];
      const x = gx + si * (barW + gap);
      if (v !== null && v !== undefined) {
        const h = (plotH * Math.min(v, max)) / max;
        parts.push(
          `<rect x="${x}" y="${top + plotH - h}" width="${barW}" height="${h}" fill="${COLOURS[si % COLOURS.length]}">` +
            `<title>${escapeHtml(`${ser.name} ${cat}: ${fmt(v, Boolean(s.percent))}`)}</title></rect>`,
        );
        const lo = ser.low?.[ci];
        const hi = ser.high?.[ci];
        if (lo !== null && lo !== undefined && hi !== null && hi !== undefined) {
          const cx = x + barW / 2;
          const y1 = top + plotH - (plotH * lo) / max;
          const y2 = top + plotH - (plotH * hi) / max;
          parts.push(`<line x1="${cx}" x2="${cx}" y1="${y1}" y2="${y2}" stroke="#333"/>`);
        }
      }
    });
    parts.push(
      `<text x="${gx + (s.series.length * (barW + gap)) / 2}" y="${top + plotH + 14}" font-size="11" text-anchor="middle">${escapeHtml(cat)}</text>`,
    );
  });
  s.series.forEach((ser, si) => {
    const x = left + si * 130;
    const y = top + plotH + 36;
    parts.push(`<rect x="${x}" y="${y}" width="12" height="12" fill="${COLOURS[si % COLOURS.length]}"/>`);
    parts.push(`<text x="${x + 16}" y="${y + 10}" font-size="11">${escapeHtml(ser.name)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("");
}

function renderSection(s: ReportSection): string {
  const title = s.title ? `<h2>${escapeHtml(s.title)}</h2>` : "";
  if (s.kind === "text") {
    return title + s.text.split(/\n\s*\n/).map((p) => `<p>${escapeHtml(p)}</p>`).join("");
  }
  if (s.kind === "table") {
    const head = `<tr>${s.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("")}</tr>`;
    const body = s.rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c === null ? "–" : String(c))}</td>`).join("")}</tr>`).join("");
    return `${title}<table>${head}${body}</table>`;
  }
  if (s.kind === "columns") {
    const cols = s.columns
      .map((c) => `<div class="col"><h3>${escapeHtml(c.heading)}</h3><pre>${c.lines.map((l) => (l.changed ? `<mark>${escapeHtml(l.text)}</mark>` : escapeHtml(l.text))).join("\n")}</pre></div>`)
      .join("");
    return `${title}${s.note ? `<p>${escapeHtml(s.note)}</p>` : ""}<div class="cols">${cols}</div>`;
  }
  return `${title}<div class="chart">${renderBarChart(s)}</div>`;
}

export function renderReport(r: Report): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(r.title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}.chart{overflow-x:auto}
.cols{display:flex;gap:1em}.col{flex:1;min-width:0}.col pre{background:#f7f7f7;padding:6px;overflow-x:auto;font-size:12px}
.col h3{font-size:13px;margin:.3em 0}mark{background:#d8f5d0}
</style></head><body>
<h1>${escapeHtml(r.title)}</h1>${r.subtitle ? `<p>${escapeHtml(r.subtitle)}</p>` : ""}
${r.sections.map(renderSection).join("\n")}
</body></html>
`;
}
