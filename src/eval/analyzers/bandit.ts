// Bandit (PyCQA's Python security linter, Debian's `bandit`) behind the Analyzer interface. Programs
// are written to a temporary folder and several go to one bandit process (`-f json`): starting
// bandit costs more than analysing one function. Calls of analyze() made close together are
// gathered into one process too. Bandit test ids are mapped to CWEs in checker-cwe.ts; findings keep the test id
// as their rule (`bandit:B608`) and `tool: "bandit"`.
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AnalyzerError } from "../../errors.ts";
import { repoRoot } from "../../paths.ts";
import type { ScenarioLanguage } from "../scenarios.ts";
import { BANDIT_CWE } from "./checker-cwe.ts";
import type { AnalysisInput, AnalysisResult, Analyzer, Finding } from "./types.ts";

const DRIVER = join(repoRoot, "src", "eval", "analyzers", "python", "bandit_driver.py");

const SEVERITY = { LOW: 0, MEDIUM: 1, HIGH: 2 } as const;
type Severity = keyof typeof SEVERITY;

/** The Python that has bandit installed (Debian's lives in the system Python, not the venv). */
export function banditPython(): string {
  return process.env.COSEC_BANDIT_PYTHON ?? "/usr/bin/python3";
}

let installedIds: Set<string> | null | undefined;

/** The test ids of the installed bandit, or null when bandit is not installed. */
export function banditTestIds(): Set<string> | null {
  if (installedIds !== undefined) return installedIds;
  const r = spawnSync(banditPython(), [DRIVER, "--list-ids"], { encoding: "utf8", timeout: 30_000 });
  installedIds = r.status === 0 ? new Set(r.stdout.split("\n").map((s) => s.trim()).filter(Boolean)) : null;
  return installedIds;
}

export function banditAvailable(): boolean {
  return banditTestIds() !== null;
}

/** Common leading whitespace removed (a method judged alone), so that bandit can parse it; lines keep their numbers. */
export function dedent(code: string): string {
  const lines = code.replace(/\t/g, "        ").split("\n");
  let margin: string | null = null;
  for (const l of lines) {
    if (!l.trim()) continue;
    const m = /^[ ]*/.exec(l)?.[0] ?? "";
    if (margin === null || m.length < margin.length) margin = m;
  }
  if (!margin) return code;
  const n = margin.length;
  return lines.map((l) => (l.startsWith(margin) ? l.slice(n) : l.trimStart())).join("\n");
}

interface BanditJson {
  results?: { filename: string; line_number: number; test_id: string; test_name: string; issue_text: string; issue_severity: Severity }[];
  errors?: { filename: string; reason: string }[];
}

export interface BanditOptions {
  /** Lowest severity kept (default LOW: every finding of a mapped test). */
  minSeverity?: Severity;
  /** Programs per bandit process (default 64). */
  batchSize?: number;
}

export class BanditAnalyzer implements Analyzer {
  readonly name = "bandit";
  private readonly minSeverity: number;
  private readonly batchSize: number;
  private queue: { input: AnalysisInput; resolve: (r: AnalysisResult) => void; reject: (e: Error) => void }[] = [];
  private flushing = false;

  constructor(opts: BanditOptions = {}) {
    this.minSeverity = SEVERITY[opts.minSeverity ?? "LOW"];
    this.batchSize = Math.max(1, opts.batchSize ?? 64);
  }

  supports(language: ScenarioLanguage): boolean {
    return language === "py";
  }

  covers(language: ScenarioLanguage, cwe: string): boolean {
    if (language !== "py") return false;
    const ids = banditTestIds();
    return Object.entries(BANDIT_CWE).some(([id, c]) => c === cwe && (ids === null || ids.has(id)));
  }

  /** Queued with the other calls of this turn of the event loop: they share a bandit process. */
  analyze(input: AnalysisInput): Promise<AnalysisResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const jobs = this.queue.splice(0, this.batchSize);
      try {
        const results = await this.run(jobs.map((j) => j.input));
        jobs.forEach((j, k) => j.resolve(results[k]));
      } catch (err) {
        for (const j of jobs) j.reject(err as Error);
      }
    }
    this.flushing = false;
  }

  async analyzeBatch(inputs: AnalysisInput[]): Promise<AnalysisResult[]> {
    const out: AnalysisResult[] = [];
    for (let k = 0; k < inputs.length; k += this.batchSize) out.push(...(await this.run(inputs.slice(k, k + this.batchSize))));
    return out;
  }

  private async run(inputs: AnalysisInput[]): Promise<AnalysisResult[]> {
    if (!banditAvailable()) throw new AnalyzerError(`bandit is not installed for ${banditPython()} (run npm run setup: apt-get install bandit)`);
    const dir = mkdtempSync(join(tmpdir(), "cosec-bandit-"));
    try {
      const files = inputs.map((inp, k) => {
        const f = join(dir, `s${k}.py`);
        writeFileSync(f, dedent(inp.code));
        return f;
      });
      const stdout = await new Promise<string>((resolve, reject) => {
        execFile(banditPython(), [DRIVER, "-f", "json", "-q", ...files], { maxBuffer: 64 << 20, timeout: 300_000 }, (err, out, errOut) => {
          // bandit exits 1 when it found issues; its JSON is on stdout either way
          if (out.trim().startsWith("{")) resolve(out);
          else reject(new AnalyzerError(`bandit failed: ${errOut.trim() || err?.message || "no output"}`));
        });
      });
      const report = JSON.parse(stdout) as BanditJson;
      const byFile = new Map<string, Finding[]>(files.map((f) => [f, []]));
      for (const r of report.results ?? []) {
        const cwe = BANDIT_CWE[r.test_id];
        if (!cwe || SEVERITY[r.issue_severity] < this.minSeverity) continue;
        byFile.get(r.filename)?.push({ cwe, line: r.line_number, rule: `bandit:${r.test_id}`, message: `${r.test_name}: ${r.issue_text}`, tool: "bandit" });
      }
      const broken = new Set((report.errors ?? []).map((e) => e.filename));
      return files.map((f) => ({ findings: byFile.get(f) ?? [], complete: !broken.has(f) }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
