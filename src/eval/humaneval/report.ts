// The HumanEval section of the HTML report (through the shared report renderer).
import type { ReportSection } from "../report/index.ts";
import type { HumanEvalSummary } from "./summary.ts";

const pct = (x: number | null): string => (x === null || Number.isNaN(x) ? "–" : `${(100 * x).toFixed(1)}%`);
const points = (x: number): string => (Number.isNaN(x) ? "–" : `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}`);

export function humanEvalSections(s: HumanEvalSummary, about: string): ReportSection[] {
  const sections: ReportSection[] = [
    { kind: "text", title: "Functional correctness (HumanEval pass@k)", text: about },
    {
      kind: "bars",
      title: "pass@k per strategy",
      categories: s.ks.map((k) => `pass@${k}`),
      series: s.strategies.map((st) => ({ name: st.strategy, values: s.ks.map((k) => st.passAtK[k]) })),
      max: 1,
      percent: true,
    },
    {
      kind: "table",
      title: "pass@k and execution outcomes",
      columns: ["strategy", "problems", "samples", ...s.ks.map((k) => `pass@${k}`), "passed", "failed", "error", "timeout", "killed", "mean tokens", "expert acceptance"],
      rows: s.strategies.map((st) => [
        st.strategy,
        st.problems,
        st.samples,
        ...s.ks.map((k) => pct(st.passAtK[k])),
        st.statusCounts.passed,
        st.statusCounts.failed,
        st.statusCounts.error,
        st.statusCounts.timeout,
        st.statusCounts.killed,
        st.meanTokens.toFixed(1),
        pct(st.meanAcceptanceRate),
      ]),
    },
  ];
  if (s.paired.length) {
    sections.push({
      kind: "table",
      title: "Paired difference against the baseline (percentage points; same seeds per sample index)",
      columns: ["strategy − baseline", "k", "problems", "mean", "95% bootstrap", "95% normal"],
      rows: s.paired.map((p) => [
        `${p.strategy} − ${p.baseline}`,
        p.k,
        p.problems,
        points(p.mean),
        `${points(p.bootstrap95[0])} .. ${points(p.bootstrap95[1])}`,
        `${points(p.normal95[0])} .. ${points(p.normal95[1])}`,
      ]),
    });
  }
  return sections;
}
