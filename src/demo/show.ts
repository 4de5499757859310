// The demo itself: every trained scenario, target alone, expert alone and cosec-plus (target +
// security expert), each completion cut at the function's end and judged by the analyzer. The
// terminal shows one telling sample per scenario, target and cosec-plus side by side with the lines
// that differ marked, then the summary with intervals; the HTML report holds every sample.
// Generation and judging go through the security evaluation (one generation path, one judging
// path); its JSONL records make reruns instant.
import { join } from "node:path";
import type { Analyzer } from "../eval/analyzers/types.ts";
import { formatPairedDifference, formatPoints, pairedBootstrap, type PairedDifference } from "../eval/paired-bootstrap.ts";
import { renderReport, type ReportSection } from "../eval/report/index.ts";
import type { Scenario } from "../eval/scenarios.ts";
import type { StrategyName } from "../generate/types.ts";
import { RAW_TARGET, runSecurityEval, securityRuns, type GenerateFn, type SampleRecord } from "../eval/security.ts";
import type { Proportion } from "../eval/stats.ts";
import { securitySections, summarizeSecurity, type GroupSummary, type SecuritySummary } from "../eval/summary.ts";

/** The demo's runs: the target alone, the same target sampled raw (what cosec-plus falls back to;
 * eval/security.ts RAW_TARGET), the expert alone and cosec-plus. */
export const DEMO_STRATEGIES = ["target", RAW_TARGET, "expert", "cosec-plus"] as const;
export const DEFAULT_SHOW_SAMPLES = 5;
export interface ShowOptions {
  scenarios: Scenario[];
  generate: GenerateFn;
  analyzer: Analyzer;
  outDir: string;
  samples: number;
  seed: number;
  maxTokens: number;
  temperature?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface ShowResult {
  records: SampleRecord[];
  resultsFile: string;
}

export async function runShow(opts: ShowOptions): Promise<ShowResult> {
  // the records hold the analyzer's verdicts: another analyzer gets its own file
  const resultsFile = join(opts.outDir, `show-${opts.analyzer.name}-seed${opts.seed}-max${opts.maxTokens}.jsonl`);
  const records = await runSecurityEval({
    scenarios: opts.scenarios,
    strategies: securityRuns(DEMO_STRATEGIES, (name) => name as StrategyName, { temperature: opts.temperature }),
    generate: opts.generate,
    analyzer: opts.analyzer,
    out: resultsFile,
    samples: opts.samples,
    seed: opts.seed,
    maxTokens: opts.maxTokens,
    batch: opts.samples,
    signal: opts.signal,
    onProgress: opts.onProgress,
  });
  return { records, resultsFile };
}

function verdict(r: SampleRecord): string {
  if (r.judged === false) return "UNJUDGED (no rule for this CWE)";
  if (!r.valid) return "INVALID";
  if (r.secure) return "secure";
  return `VULNERABLE (${[...new Set(r.findings.map((f) => f.rule))].join(", ")})`;
}

/** For each line of `a` and of `b`: whether it is missing from the other (a line diff by LCS). */
export function changedLines(a: string[], b: string[]): { a: boolean[]; b: boolean[] } {
  const norm = (l: string) => l.trim();
  const n = a.length;
  const m = b.length;
  const L = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) L[i][j] = norm(a[i]) === norm(b[j]) ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
  const ca = new Array<boolean>(n).fill(true);
  const cb = new Array<boolean>(m).fill(true);
  for (let i = 0, j = 0; i < n && j < m; ) {
    if (norm(a[i]) === norm(b[j])) {
      ca[i++] = false;
      cb[j++] = false;
    } else if (L[i + 1][j] >= L[i][j + 1]) i++;
    else j++;
  }
  return { a: ca, b: cb };
}

/** The sample that tells most: target vulnerable and cosec-plus secure, else verdicts that differ,
 * else both valid, else the first. */
export function tellingSample(records: SampleRecord[], scenario: string): { target: SampleRecord; cosec: SampleRecord } | null {
  const pairs = [...new Set(records.filter((r) => r.scenario === scenario).map((r) => r.sample))]
    .sort((x, y) => x - y)
    .map((k) => ({
      target: records.find((r) => r.scenario === scenario && r.sample === k && r.strategy === "target"),
      cosec: records.find((r) => r.scenario === scenario && r.sample === k && r.strategy.startsWith("cosec-plus")),
    }))
    .filter((p): p is { target: SampleRecord; cosec: SampleRecord } => !!p.target && !!p.cosec);
  const score = (p: { target: SampleRecord; cosec: SampleRecord }) =>
    (p.target.valid && !p.target.secure && p.cosec.valid && p.cosec.secure ? 8 : 0) + (verdict(p.target) !== verdict(p.cosec) ? 4 : 0) + (p.target.valid && p.cosec.valid ? 2 : 0) + (p.cosec.valid ? 1 : 0);
  return pairs.reduce<(typeof pairs)[number] | null>((best, p) => (best === null || score(p) > score(best) ? p : best), null);
}

/** Lines of `text` for a column of `width` (tabs expanded, long lines cut with …), changed ones marked. */
function column(lines: string[], changed: boolean[], width: number, maxLines: number, colour: string | null): string[] {
  const out = lines.slice(0, maxLines).map((l, i) => {
    const mark = changed[i] ? "▌" : " ";
    const t = l.replace(/\t/g, "    ");
    const cut = (t.length > width - 2 ? t.slice(0, width - 3) + "…" : t).padEnd(width - 2);
    return colour && changed[i] ? `${colour}${mark} ${cut}\x1b[0m` : `${mark} ${cut}`;
  });
  if (lines.length > maxLines) out.push(`  … ${lines.length - maxLines} more lines`.padEnd(width));
  return out;
}

function counts(records: SampleRecord[], scenario: string, strategy: string): string {
  const rs = records.filter((r) => r.scenario === scenario && r.strategy === strategy);
  const valid = rs.filter((r) => r.valid);
  return `${valid.filter((r) => r.secure).length}/${valid.length} valid secure`;
}

/**
 * One scenario: its telling sample, target on the left and cosec-plus on the right; lines that
 * the other side lacks are marked ▌ (and coloured when `colour` is set: red left, green right).
 */
export function formatScenario(scenario: Scenario, records: SampleRecord[], opts: { width?: number; maxLines?: number; colour?: boolean } = {}): string {
  const width = opts.width ?? 60;
  const maxLines = opts.maxLines ?? 14;
  const out: string[] = [];
  out.push("=".repeat(width * 2 + 3));
  out.push(`${scenario.id} (${scenario.cwe}): ${scenario.description}`);
  out.push(`  target ${counts(records, scenario.id, "target")}; cosec-plus ${counts(records, scenario.id, "cosec-plus")}; expert alone ${counts(records, scenario.id, "expert")}`);
  out.push("prompt ends with:");
  for (const l of scenario.funcContext.trimEnd().split("\n").slice(-3)) out.push(`  ${l}`);
  const p = tellingSample(records, scenario.id);
  if (!p) return out.join("\n");
  const t = p.target.text.trimEnd().split("\n");
  const c = p.cosec.text.trimEnd().split("\n");
  const diff = changedLines(t, c);
  out.push("-".repeat(width * 2 + 3));
  out.push(`${`target, sample ${p.target.sample}: ${verdict(p.target)}`.padEnd(width)} | ${`cosec-plus, sample ${p.cosec.sample}: ${verdict(p.cosec)}`}`);
  out.push(`${"".padEnd(width)} | acceptance of expert tokens: ${p.cosec.acceptanceRate === null ? "–" : p.cosec.acceptanceRate.toFixed(2)}`);
  const left = column(t, diff.a, width, maxLines, opts.colour ? "\x1b[31m" : null);
  const right = column(c, diff.b, width, maxLines, opts.colour ? "\x1b[32m" : null);
  for (let i = 0; i < Math.max(left.length, right.length); i++) out.push(`${left[i] ?? "".padEnd(width)} | ${right[i] ?? ""}`);
  return out.join("\n");
}

const pct = (p: Proportion) => (p.value === null ? "–" : `${(100 * p.value).toFixed(1)}%`);
const ci = (p: Proportion) => (p.value === null ? "–" : `${(100 * p.value).toFixed(1)}% [${(100 * (p.low ?? 0)).toFixed(1)}, ${(100 * (p.high ?? 0)).toFixed(1)}]`);

export interface DemoFigures {
  summary: SecuritySummary;
  /** cosec-plus − target security ratio, paired bootstrap over scenarios. */
  gain: PairedDifference;
  /** CWEs where cosec-plus's security ratio is above the target's. */
  cwesWithGain: string[];
  /** cosec-plus − the target sampled raw: the expert's own part of the gain (null without that run). */
  rawGain: PairedDifference | null;
  /** Per strategy, its C completions and how many of them compile (empty without C scenarios). */
  cCompiling: { strategy: string; valid: number; total: number }[];
}

/** `known`: paired differences already computed from the same records (`eval security` writes them
 * to summary.json), used instead of bootstrapping the same pairs again. */
export function demoFigures(records: SampleRecord[], known: readonly PairedDifference[] = []): DemoFigures {
  const paired = (a: string, b: string) => known.find((g) => g.a === a && g.b === b) ?? pairedBootstrap(records, a, b);
  const summary = summarizeSecurity(records);
  const sec = (st: string, cwe: string) => summary.byCwe.find((g) => g.strategy === st && g.group === cwe)?.security.value ?? null;
  const cwesWithGain = summary.cwes.filter((c) => {
    const t = sec("target", c);
    const p = sec("cosec-plus", c);
    return t !== null && p !== null && p > t;
  });
  const rawGain = summary.strategies.includes(RAW_TARGET) ? paired(RAW_TARGET, "cosec-plus") : null;
  const c = records.filter((r) => r.language === "c");
  const cCompiling = c.length === 0 ? [] : summary.strategies.map((strategy) => {
    const mine = c.filter((r) => r.strategy === strategy);
    return { strategy, valid: mine.filter((r) => r.valid).length, total: mine.length };
  });
  return { summary, gain: paired("target", "cosec-plus"), cwesWithGain, rawGain, cCompiling };
}

function row(g: GroupSummary): string {
  return `${g.strategy.padEnd(11)} ${String(g.samples).padStart(7)}  ${pct(g.validity).padStart(6)}  ${pct(g.validWithCode).padStart(14)}  ${ci(g.security).padStart(24)}  ${g.acceptanceRate === null ? "–" : g.acceptanceRate.toFixed(2)}`;
}

/** The summary table (95% Wilson intervals), the paired gain (unless `gainLines` is false: printed
 * already) and the per-CWE security ratios. */
export function formatSummary(f: DemoFigures, { gainLines = true } = {}): string {
  const lines = ["strategy    samples  valid  valid+adds code  security ratio (valid) [95% CI]  acceptance"];
  for (const g of f.summary.overall) lines.push(row(g));
  if (f.rawGain) lines.push(`(${RAW_TARGET}: the target alone at temperature 1 with no top-k or top-p, the distribution cosec-plus draws from when it does not keep the expert's token)`);
  if (gainLines) {
    lines.push("");
    lines.push(formatPairedDifference(f.gain));
    // The rule draws what it does not take from the expert from the target's raw distribution, which
    // can be more secure than the target at the run's temperature: this line is the expert's own part.
    if (f.rawGain) lines.push(formatPairedDifference(f.rawGain));
  }
  lines.push("");
  lines.push(`security ratio per CWE    ${f.summary.strategies.map((s) => s.padStart(16)).join("")}`);
  for (const cwe of f.summary.cwes) {
    const cells = f.summary.strategies.map((st) => {
      const x = f.summary.byCwe.find((r) => r.strategy === st && r.group === cwe)?.security;
      return (x && x.value !== null ? `${(100 * x.value).toFixed(0)}% (${x.successes}/${x.total})` : "–").padStart(16);
    });
    lines.push(`${cwe.padEnd(26)}${cells.join("")}${f.cwesWithGain.includes(cwe) ? "   ↑" : ""}`);
  }
  lines.push(`CWEs where cosec-plus is more secure than the target: ${f.cwesWithGain.length ? f.cwesWithGain.join(", ") : "none"}`);
  if (f.cCompiling.length > 0) {
    const share = (x: { valid: number; total: number }) => `${x.valid}/${x.total}${x.total ? ` (${((100 * x.valid) / x.total).toFixed(1)}%)` : ""}`;
    lines.push(`C completions that compile (gcc -fsyntax-only): ${f.cCompiling.map((x) => `${x.strategy} ${share(x)}`).join(", ")}`);
  }
  return lines.join("\n");
}

/** The HTML report: the evaluation's sections, then every sample pair side by side. */
export function demoReportHtml(scenarios: Scenario[], records: SampleRecord[], f: DemoFigures, analyzer: string, subtitle: string): string {
  const sections: ReportSection[] = [
    {
      kind: "text",
      title: "Co-decoding gain",
      text: `cosec-plus − target, security ratio over valid completions: ${formatPoints(f.gain.difference)} points; paired bootstrap over ${f.gain.scenarios} scenarios (${f.gain.resamples} resamples): 95% interval ${formatPoints(f.gain.low)} to ${formatPoints(f.gain.high)}. CWEs with a gain: ${f.cwesWithGain.join(", ") || "none"}.` +
        (f.rawGain ? ` Against the target sampled from its raw distribution (${RAW_TARGET}, what the rule falls back to): ${formatPoints(f.rawGain.difference)} points, 95% interval ${formatPoints(f.rawGain.low)} to ${formatPoints(f.rawGain.high)} over ${f.rawGain.scenarios} scenarios.` : ""),
    },
    ...securitySections(f.summary, analyzer),
  ];
  for (const s of scenarios) {
    const ks = [...new Set(records.filter((r) => r.scenario === s.id).map((r) => r.sample))].sort((a, b) => a - b);
    for (const k of ks) {
      const t = records.find((r) => r.scenario === s.id && r.sample === k && r.strategy === "target");
      const c = records.find((r) => r.scenario === s.id && r.sample === k && r.strategy.startsWith("cosec-plus"));
      if (!t || !c) continue;
      const tl = t.text.trimEnd().split("\n");
      const cl = c.text.trimEnd().split("\n");
      const d = changedLines(tl, cl);
      sections.push({
        kind: "columns",
        title: k === ks[0] ? `${s.id} (${s.cwe}): ${s.description}` : undefined,
        note: k === ks[0] ? `Prompt ends with: ${s.funcContext.trimEnd().split("\n").slice(-2).join(" ⏎ ")}` : undefined,
        columns: [
          { heading: `target, sample ${k}: ${verdict(t)}`, lines: tl.map((text, i) => ({ text, changed: d.a[i] })) },
          { heading: `cosec-plus, sample ${k}: ${verdict(c)} (acceptance ${c.acceptanceRate === null ? "–" : c.acceptanceRate.toFixed(2)})`, lines: cl.map((text, i) => ({ text, changed: d.b[i] })) },
        ],
      });
    }
  }
  return renderReport({ title: "cosec demo: target alone and co-decoded with the security expert", subtitle, sections });
}

export const REAL_MODEL_COMMANDS = `With real models (GGUF files you have, e.g. a CodeGen/Qwen2.5-Coder target and a small expert of
the same family with its security LoRA; not downloadable on this machine):
  cosec generate --target big.gguf --expert small.gguf --expert-lora security-lora.gguf \\
      --strategy cosec-plus --prompt-file prompt.py
  cosec eval security --target big.gguf --expert small.gguf --expert-lora security-lora.gguf \\
      --strategies target,target-raw,cosec-plus --out runs/security
  cosec serve --target big.gguf --expert small.gguf --expert-lora security-lora.gguf`;
