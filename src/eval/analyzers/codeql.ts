// CodeQL adapter: one database per batch of samples (one source file each), the scenario's
// `check_ql` query run over it, SARIF results mapped back to the samples. Needs the `codeql` CLI
// and a folder holding the CodeQL query packs that SVEN's check_ql paths point into.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, delimiter, isAbsolute, join, normalize } from "node:path";
import { AnalyzerError } from "../../errors.ts";
import type { ScenarioLanguage } from "../scenarios.ts";
import type { AnalysisInput, AnalysisResult, Analyzer, Finding } from "./types.ts";

export interface CodeqlOptions {
  /** The codeql binary (default: `codeql` on PATH). */
  codeql?: string;
  /** Folder the `../codeql/codeql-repo/...` part of check_ql paths resolves against. */
  queries?: string;
  threads?: number;
}

/** The codeql binary: the given path, else the first `codeql` on PATH, else null. */
export function findCodeql(given?: string): string | null {
  if (given) return existsSync(given) ? given : null;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, "codeql"))) return join(dir, "codeql");
  }
  return null;
}

/**
 * Resolve a scenario's check_ql. SVEN writes `../codeql/codeql-repo/<lang>/ql/src/...` (the CodeQL
 * repository) or `../data_eval/trained/<cwe>/<scenario>/<file>.ql` (a query shipped with the scenario).
 */
export function resolveQuery(checkQl: string, scenarioDir: string, customQueries: readonly string[], queriesRoot?: string): string {
  const shipped = customQueries.find((q) => basename(q) === basename(checkQl));
  if (shipped) return shipped;
  if (isAbsolute(checkQl)) return checkQl;
  const rel = normalize(checkQl).replace(/^(\.\.\/)+/, "").replace(/^codeql\/codeql-repo\//, "").replace(/^codeql-repo\//, "");
  if (!queriesRoot) {
    throw new AnalyzerError(`scenario ${scenarioDir}: query ${checkQl} needs --queries (a checkout of the CodeQL queries)`);
  }
  return join(queriesRoot, rel);
}

export function databaseCreateArgs(language: ScenarioLanguage, db: string, src: string, files: readonly string[], threads = 1): string[] {
  const args = ["database", "create", db, `--source-root=${src}`, "--overwrite", `--threads=${threads}`];
  if (language === "py") return [...args, "--language=python"];
  // C needs a build CodeQL can trace: compile every sample file on its own.
  const build = files.map((f) => `gcc -c -w ${f} -o ${f}.o`).join(" ; ");
  return [...args, "--language=cpp", `--command=sh -c ${shellQuote(build + " ; true")}`];
}

export function analyzeArgs(db: string, query: string, sarif: string, threads = 1): string[] {
  return ["database", "analyze", db, query, "--format=sarif-latest", `--output=${sarif}`, `--threads=${threads}`, "--rerun"];
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

interface SarifRule {
  id?: string;
  properties?: { tags?: string[] };
}
interface SarifResult {
  ruleId?: string;
  ruleIndex?: number;
  rule?: { id?: string; index?: number };
  message?: { text?: string };
  locations?: { physicalLocation?: { artifactLocation?: { uri?: string }; region?: { startLine?: number } } }[];
}
interface SarifLog {
  runs?: { tool?: { driver?: { rules?: SarifRule[] } }; results?: SarifResult[] }[];
}

export interface SarifFinding extends Finding {
  /** The artifact (file) URI the result is in. */
  uri: string;
}

function cweOfTags(tags: readonly string[] | undefined): string | null {
  for (const t of tags ?? []) {
    const m = /cwe[-/]0*(\d+)$/i.exec(t);
    if (m) return `CWE-${m[1].padStart(3, "0")}`;
  }
  return null;
}

/** Findings of a SARIF log; results without a CWE tag get `fallbackCwe` (the scenario's query). */
export function parseSarif(text: string, fallbackCwe: string): SarifFinding[] {
  let log: SarifLog;
  try {
    log = JSON.parse(text) as SarifLog;
  } catch (err) {
    throw new AnalyzerError(`SARIF is not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(log.runs)) throw new AnalyzerError("SARIF has no 'runs' array");
  const out: SarifFinding[] = [];
  for (const run of log.runs) {
    const rules = run.tool?.driver?.rules ?? [];
    for (const r of run.results ?? []) {
      const ruleId = r.ruleId ?? r.rule?.id ?? "";
      const idx = r.ruleIndex ?? r.rule?.index;
      const rule = (idx !== undefined ? rules[idx] : undefined) ?? rules.find((x) => x.id === ruleId);
      const loc = r.locations?.[0]?.physicalLocation;
      out.push({
        cwe: cweOfTags(rule?.properties?.tags) ?? fallbackCwe,
        line: loc?.region?.startLine ?? 0,
        rule: ruleId || rule?.id || "codeql",
        message: r.message?.text ?? "",
        uri: loc?.artifactLocation?.uri ?? "",
      });
    }
  }
  return out;
}

/** Findings of a SARIF file (what `codeql database analyze` wrote). */
export function readSarif(path: string, fallbackCwe: string): SarifFinding[] {
  if (!existsSync(path)) throw new AnalyzerError(`SARIF file ${path} was not written`);
  return parseSarif(readFileSync(path, "utf8"), fallbackCwe);
}

function run(bin: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { maxBuffer: 64 << 20, timeout: 30 * 60_000 }, (err, _out, stderr) => {
      if (err) reject(new AnalyzerError(`codeql ${args.slice(0, 2).join(" ")} failed: ${stderr.trim().split("\n").slice(-3).join(" ")}`));
      else resolve();
    });
  });
}

export class CodeqlAnalyzer implements Analyzer {
  readonly name = "codeql";
  private readonly bin: string;

  constructor(private readonly opts: CodeqlOptions = {}) {
    const bin = findCodeql(opts.codeql);
    if (!bin) throw new AnalyzerError(`codeql not found${opts.codeql ? ` at ${opts.codeql}` : " on PATH"} (install the CodeQL CLI or pass --codeql PATH)`);
    this.bin = bin;
  }

  supports(language: ScenarioLanguage): boolean {
    return language === "py" || language === "c";
  }

  async analyze(input: AnalysisInput): Promise<AnalysisResult> {
    return (await this.analyzeBatch([input]))[0];
  }

  /** One database for all inputs (same scenario): much cheaper than one per sample. */
  async analyzeBatch(inputs: AnalysisInput[]): Promise<AnalysisResult[]> {
    if (inputs.length === 0) return [];
    const sc = inputs[0].scenario;
    if (!sc?.checkQl) throw new AnalyzerError("the codeql analyzer needs a scenario with check_ql");
    const query = resolveQuery(sc.checkQl, sc.dir, sc.customQueries, this.opts.queries);
    const work = mkdtempSync(join(tmpdir(), "cosec-codeql-"));
    try {
      const src = join(work, "src");
      mkdirSync(src);
      const ext = inputs[0].language === "py" ? "py" : "c";
      const files = inputs.map((inp, k) => {
        const name = `sample_${k}.${ext}`;
        writeFileSync(join(src, name), inp.code);
        return name;
      });
      const db = join(work, "db");
      const sarif = join(work, "out.sarif");
      const threads = this.opts.threads ?? 1;
      await run(this.bin, databaseCreateArgs(inputs[0].language, db, src, files, threads));
      await run(this.bin, analyzeArgs(db, query, sarif, threads));
      const findings = readSarif(sarif, sc.cwe);
      return inputs.map((_, k) => ({
        findings: findings.filter((f) => basename(f.uri) === files[k]).map(({ uri: _uri, ...f }) => f),
        complete: true,
      }));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
}
