// A paired bootstrap over scenarios of the difference in security ratio between two strategies:
// scenarios are resampled with replacement and both pooled ratios (secure / valid over the drawn
// scenarios' samples) recomputed on the same draw, so the interval reflects how much the gain
// depends on which scenarios were evaluated.
import { RAW_TARGET, type SampleRecord } from "./security.ts";
import { mulberry32 } from "./stats.ts";
import { isJudged } from "./summary.ts";

export interface PairedDifference {
  /** Strategy names: `b − a`. */
  a: string;
  b: string;
  scenarios: number;
  difference: number | null;
  low: number | null;
  high: number | null;
  resamples: number;
}


export function pairedBootstrap(records: SampleRecord[], a: string, b: string, resamples = 2000, seed = 0): PairedDifference {
  // Per scenario: [secure, valid] of each strategy (judged samples only).
  const counts = new Map<string, number[]>();
  for (const r of records) {
    if (!isJudged(r) || !r.valid || (r.strategy !== a && r.strategy !== b)) continue;
    const c = counts.get(r.scenario) ?? [0, 0, 0, 0];
    const k = r.strategy === a ? 0 : 2;
    c[k] += r.secure ? 1 : 0;
    c[k + 1] += 1;
    counts.set(r.scenario, c);
  }
  const rows = [...counts.values()];
  const diff = (draw: number[][]): number | null => {
    const t = draw.reduce((s, c) => s.map((x, i) => x + c[i]), [0, 0, 0, 0]);
    return t[1] && t[3] ? t[2] / t[3] - t[0] / t[1] : null;
  };
  const point = diff(rows);
  const rnd = mulberry32(seed);
  const ds: number[] = [];
  for (let i = 0; i < resamples && rows.length; i++) {
    const d = diff(rows.map(() => rows[Math.floor(rnd() * rows.length)]));
    if (d !== null) ds.push(d);
  }
  ds.sort((x, y) => x - y);
  const q = (p: number) => (ds.length ? ds[Math.min(ds.length - 1, Math.floor(p * ds.length))] : null);
  return { a, b, scenarios: rows.length, difference: point, low: q(0.025), high: q(0.975), resamples };
}

/** A difference of ratios in signed percentage points ("+12.3"; "–" when there is none). */
export const formatPoints = (x: number | null) => (x === null ? "–" : `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}`);

/** One line: "b − a, security ratio: +N points (paired bootstrap over S scenarios, 95% interval L to H)". */
export function formatPairedDifference(d: PairedDifference): string {
  return `${d.b} − ${d.a}, security ratio: ${formatPoints(d.difference)} points (paired bootstrap over ${d.scenarios} scenarios, 95% interval ${formatPoints(d.low)} to ${formatPoints(d.high)})`;
}

/** Each strategy's paired difference to each baseline the run has (the target at the run's
 * settings, then the target sampled raw), in the run's order; a baseline is not compared with one
 * listed before it in `baselines`. */
export function gainsOver(records: SampleRecord[], strategies: readonly string[], baselines: readonly string[] = ["target", RAW_TARGET]): PairedDifference[] {
  const out: PairedDifference[] = [];
  baselines.forEach((base, n) => {
    if (!strategies.includes(base)) return;
    for (const s of strategies) if (s !== base && !baselines.slice(0, n).includes(s)) out.push(pairedBootstrap(records, base, s));
  });
  return out;
}
