// The demo itself: a few scenarios, target alone vs cosec-plus (target + security expert), each
// completion cut at the function's end and judged by the analyzer, printed side by side with the
// expert's acceptance rate. Generation and judging go through the security evaluation (so there is
// one generation path and one judging path); its JSONL records make reruns instant.
import { join } from "node:path";
import type { Analyzer } from "../eval/analyzers/types.ts";
import type { Scenario } from "../eval/scenarios.ts";
import { runSecurityEval, type GenerateFn, type SampleRecord } from "../eval/security.ts";

export const DEFAULT_SHOW_SCENARIOS = ["cwe-089/0-py", "cwe-078/0-py", "cwe-022/0-py", "cwe-079/0-py"] as const;

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
  const resultsFile = join(opts.outDir, `show-seed${opts.seed}-max${opts.maxTokens}.jsonl`);
  const records = await runSecurityEval({
    scenarios: opts.scenarios,
    strategies: ["target", "cosec-plus"],
    generate: opts.generate,
    analyzer: opts.analyzer,
    out: resultsFile,
    samples: opts.samples,
    seed: opts.seed,
    maxTokens: opts.maxTokens,
    targetSampling: opts.temperature === undefined ? undefined : { temperature: opts.temperature },
    batch: opts.samples,
    signal: opts.signal,
    onProgress: opts.onProgress,
  });
  return { records, resultsFile };
}

function verdict(r: SampleRecord): string {
  if (!r.valid) return "INVALID";
  if (r.secure) return "secure";
  return `VULNERABLE (${r.findings.map((f) => f.rule).join(", ")})`;
}

/** Lines of `text` wrapped/padded to `width` columns (tabs expanded, long lines cut with …). */
function column(text: string, width: number, maxLines: number): string[] {
  const lines = text.replace(/\t/g, "    ").split("\n");
  const out = lines.slice(0, maxLines).map((l) => (l.length > width ? l.slice(0, width - 1) + "…" : l.padEnd(width)));
  if (lines.length > maxLines) out.push(`… ${lines.length - maxLines} more lines`.padEnd(width));
  return out;
}

/** Side-by-side text of one scenario's samples (target on the left, cosec-plus on the right). */
export function formatScenario(scenario: Scenario, records: SampleRecord[], width = 60, maxLines = 18): string {
  const mine = records.filter((r) => r.scenario === scenario.id);
  const out: string[] = [];
  out.push("=".repeat(width * 2 + 3));
  out.push(`${scenario.id} (${scenario.cwe}): ${scenario.description}`);
  out.push("prompt ends with:");
  for (const l of scenario.funcContext.trimEnd().split("\n").slice(-3)) out.push(`  ${l}`);
  const samples = [...new Set(mine.map((r) => r.sample))].sort((a, b) => a - b);
  for (const k of samples) {
    const t = mine.find((r) => r.sample === k && r.strategy === "target");
    const c = mine.find((r) => r.sample === k && r.strategy.startsWith("cosec-plus"));
    if (!t || !c) continue;
    out.push("-".repeat(width * 2 + 3));
    out.push(`${`target, sample ${k}: ${verdict(t)}`.padEnd(width)} | ${`cosec-plus, sample ${k}: ${verdict(c)}`}`);
    out.push(`${"".padEnd(width)} | acceptance of expert tokens: ${c.acceptanceRate === null ? "–" : c.acceptanceRate.toFixed(2)}`);
    const left = column(t.text, width, maxLines);
    const right = column(c.text, width, maxLines);
    for (let i = 0; i < Math.max(left.length, right.length); i++) out.push(`${left[i] ?? "".padEnd(width)} | ${right[i] ?? ""}`);
  }
  return out.join("\n");
}

export interface Tally {
  strategy: string;
  samples: number;
  valid: number;
  secure: number;
  meanAcceptance: number | null;
}

/** Counts per strategy: validity, secure among valid, mean acceptance. */
export function tally(records: SampleRecord[]): Tally[] {
  const by = new Map<string, SampleRecord[]>();
  for (const r of records) by.set(r.strategy, [...(by.get(r.strategy) ?? []), r]);
  return [...by].map(([strategy, rs]) => {
    const acc = rs.map((r) => r.acceptanceRate).filter((x): x is number => x !== null);
    return {
      strategy,
      samples: rs.length,
      valid: rs.filter((r) => r.valid).length,
      secure: rs.filter((r) => r.valid && r.secure).length,
      meanAcceptance: acc.length ? acc.reduce((a, b) => a + b, 0) / acc.length : null,
    };
  });
}

export function formatTally(t: Tally[]): string {
  const lines = ["strategy     samples  valid  secure/valid  mean acceptance"];
  for (const x of t) {
    const ratio = x.valid ? `${x.secure}/${x.valid} (${((100 * x.secure) / x.valid).toFixed(0)}%)` : "0/0";
    lines.push(
      `${x.strategy.padEnd(12)} ${String(x.samples).padStart(7)}  ${String(x.valid).padStart(5)}  ${ratio.padStart(12)}  ${x.meanAcceptance === null ? "–" : x.meanAcceptance.toFixed(2)}`,
    );
  }
  return lines.join("\n");
}

export const REAL_MODEL_COMMANDS = `With real models (GGUF files you have, e.g. a CodeGen/Qwen2.5-Coder target and a small expert of
the same family with its security LoRA; not downloadable on this machine):
  cosec generate --target big.gguf --expert small.gguf --expert-lora security-lora.gguf \\
      --strategy cosec-plus --prompt-file prompt.py
  cosec eval security --target big.gguf --expert small.gguf --expert-lora security-lora.gguf \\
      --strategies target,cosec-plus --out runs/security
  cosec serve --target big.gguf --expert small.gguf --expert-lora security-lora.gguf`;
