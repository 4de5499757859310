// Summary of a run, computed from the per-sample records only: pass@k per strategy and the paired
// difference of each strategy against the first (the baseline), per problem then averaged.
import type { HumanEvalRecord } from "./pipeline.ts";
import { pairedDifference, passAtK, type PairedDifference } from "./passk.ts";
import type { SampleStatus } from "./sandbox.ts";

export interface StrategySummary {
  strategy: string;
  samples: number;
  problems: number;
  statusCounts: Record<SampleStatus, number>;
  /** pass@k (as a fraction) averaged over problems with at least k samples; null when none has. */
  passAtK: Record<string, number | null>;
  /** Problems that entered each pass@k mean. */
  problemsForK: Record<string, number>;
  /** Mean fraction of expert tokens kept (cosec-plus), over samples that report one. */
  meanAcceptanceRate: number | null;
  meanTokens: number;
}

export interface PairedSummary extends PairedDifference {
  baseline: string;
  strategy: string;
  k: number;
}

export interface HumanEvalSummary {
  ks: number[];
  strategies: StrategySummary[];
  /** Each non-baseline strategy minus the baseline (the first strategy), per k. */
  paired: PairedSummary[];
}

type PerProblem = Map<string, { n: number; c: number }>;

function countByProblem(records: readonly HumanEvalRecord[], strategy: string): PerProblem {
  const m: PerProblem = new Map();
  for (const r of records) {
    if (r.strategy !== strategy) continue;
    const e = m.get(r.problem) ?? { n: 0, c: 0 };
    e.n++;
    if (r.status === "passed") e.c++;
    m.set(r.problem, e);
  }
  return m;
}

const mean = (xs: number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

export function summarize(records: readonly HumanEvalRecord[], strategies: readonly string[], ks: readonly number[]): HumanEvalSummary {
  const perStrategy = new Map(strategies.map((s) => [s, countByProblem(records, s)]));
  const summaries: StrategySummary[] = strategies.map((s) => {
    const mine = records.filter((r) => r.strategy === s);
    const statusCounts: Record<SampleStatus, number> = { passed: 0, failed: 0, error: 0, timeout: 0, killed: 0 };
    for (const r of mine) statusCounts[r.status]++;
    const byProblem = perStrategy.get(s)!;
    const passAt: Record<string, number | null> = {};
    const problemsForK: Record<string, number> = {};
    for (const k of ks) {
      const values = [...byProblem.values()].filter((e) => e.n >= k).map((e) => passAtK(e.n, e.c, k));
      passAt[k] = mean(values);
      problemsForK[k] = values.length;
    }
    const rates = mine.map((r) => r.acceptanceRate).filter((x): x is number => typeof x === "number");
    return {
      strategy: s,
      samples: mine.length,
      problems: byProblem.size,
      statusCounts,
      passAtK: passAt,
      problemsForK,
      meanAcceptanceRate: mean(rates),
      meanTokens: mean(mine.map((r) => r.tokens)) ?? 0,
    };
  });
  const paired: PairedSummary[] = [];
  const [baseline, ...others] = strategies;
  for (const s of others) {
    const a = perStrategy.get(baseline)!;
    const b = perStrategy.get(s)!;
    for (const k of ks) {
      const diffs: number[] = [];
      for (const [problem, eb] of b) {
        const ea = a.get(problem);
        if (!ea || ea.n < k || eb.n < k) continue;
        diffs.push(passAtK(eb.n, eb.c, k) - passAtK(ea.n, ea.c, k));
      }
      paired.push({ baseline, strategy: s, k, ...pairedDifference(diffs) });
    }
  }
  return { ks: [...ks], strategies: summaries, paired };
}

const pct = (x: number | null): string => (x === null || Number.isNaN(x) ? "n/a" : `${(100 * x).toFixed(1)}%`);

/** A plain-text table for the terminal. */
export function formatSummary(s: HumanEvalSummary): string {
  const lines: string[] = [];
  const head = ["strategy", "samples", ...s.ks.map((k) => `pass@${k}`), "passed", "failed", "error", "timeout", "killed"];
  lines.push(head.join("\t"));
  for (const st of s.strategies) {
    const c = st.statusCounts;
    lines.push([st.strategy, st.samples, ...s.ks.map((k) => pct(st.passAtK[k])), c.passed, c.failed, c.error, c.timeout, c.killed].join("\t"));
  }
  for (const p of s.paired) {
    const signed = (x: number) => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}`;
    lines.push(
      `${p.strategy} - ${p.baseline} pass@${p.k}: ${Number.isNaN(p.mean) ? "n/a" : signed(p.mean)} points ` +
        (Number.isNaN(p.mean) ? "" : `(95% bootstrap ${signed(p.bootstrap95[0])}..${signed(p.bootstrap95[1])}, normal ${signed(p.normal95[0])}..${signed(p.normal95[1])}; ${p.problems} problems)`),
    );
  }
  return lines.join("\n");
}
