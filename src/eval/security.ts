// The security evaluation: for each scenario and strategy, N samples through the engine (the
// generate function is passed in, typed like Engine.generate), cut at the function's end, checked
// for validity and judged by an analyzer. One JSONL record per sample; a restart continues.
import { resolveDecodingSettings, strategyParams, type DecodingInput, type DecodingSettings, type ResolveContext } from "../decoding/settings.ts";
import type { GenerateOptions, GenerationResult, StrategyName } from "../generate/types.ts";
import { AnalyzerError, CosecError } from "../errors.ts";
import type { AnalysisInput, AnalysisResult, Analyzer, Finding } from "./analyzers/types.ts";
import { cweJudges, judgingCwes } from "./cwe-parents.ts";
import { cutCompletion } from "./cutting.ts";
import { ResultsStore } from "./results-store.ts";
import type { Scenario } from "./scenarios.ts";
import { addsCode } from "./adds-code.ts";
import { checkValidity } from "./validity.ts";

export type GenerateFn = (prompt: string, opts: GenerateOptions) => Promise<GenerationResult[]>;

export interface SampleRecord {
  scenario: string;
  cwe: string;
  language: string;
  strategy: string;
  seed: number;
  sample: number;
  /** The completion as generated. */
  completion: string;
  /** The completion cut where the function ends. */
  text: string;
  ended: boolean;
  valid: boolean;
  validityError: string | null;
  /** Whether the cut completion holds code, not only comments or strings (absent in older records). */
  addsCode?: boolean;
  analyzer: string;
  /** Findings of the scenario's CWE inside the function. */
  findings: Finding[];
  secure: boolean;
  /**
   * False when the analyzer has no rule for the scenario's CWE in its language: the sample is
   * unjudged (secure is false and means nothing) and left out of every security ratio. Absent in
   * older records, which were all judged.
   */
  judged?: boolean;
  /** Whether the analyzer judged all of the code (it may judge broken code only in part). */
  analyzerComplete: boolean;
  tokens: number;
  finishReason: string;
  acceptanceRate: number | null;
}

export interface SecurityRunOptions {
  scenarios: Scenario[];
  strategies: StrategyRun[];
  generate: GenerateFn;
  analyzer: Analyzer;
  /** JSONL results file (created, or continued when it exists). */
  out: string;
  samples?: number;
  seed?: number;
  maxTokens?: number;
  /** Samples per generate call (parallel sequences). */
  batch?: number;
  /** Analyses running at once while generation goes on. */
  analysisConcurrency?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export const DEFAULTS = { samples: 25, seed: 1, maxTokens: 256, batch: 5 } as const;

/** One strategy of a run: its decoding settings, and the key its records carry. */
export interface StrategyRun {
  key: string;
  decoding: DecodingSettings;
}

/**
 * The target alone sampled from its raw distribution (temperature 1; no top-k, top-p or min-p): what
 * cosec-plus's reference rule draws from when it does not keep the expert's token. Beside the target
 * at the run's settings it separates the expert's part of a gain from the fallback's temperature.
 */
export const RAW_TARGET = "target-raw";

/**
 * The runs of `--strategies`: each strategy name (see strategyRuns) or RAW_TARGET, in order. Names
 * are checked by `check` (the CLI's, which names the flag); RAW_TARGET ignores the run's sampling.
 */
export function securityRuns(list: readonly string[], check: (name: string) => StrategyName, given: DecodingInput = {}, ctx: ResolveContext = { hasExpert: true }): StrategyRun[] {
  return list.map((name) =>
    name === RAW_TARGET
      ? { key: RAW_TARGET, decoding: resolveDecodingSettings({ strategy: "target", temperature: 1, topP: 1, topK: 0, minP: 0 }, ctx) }
      : strategyRuns([check(name)], given, ctx)[0],
  );
}

/**
 * Each strategy resolved with the run's decoding input. Its key is its name plus the parameters of
 * its own that were given (`cosec-plus(threshold=0.5)`): runs with other values sit side by side.
 */
export function strategyRuns(names: readonly StrategyName[], given: DecodingInput = {}, ctx: ResolveContext = { hasExpert: true }): StrategyRun[] {
  return names.map((name) => {
    const own = strategyParams(name).flatMap((k) => (given[k as keyof DecodingInput] == null ? [] : [`${k}=${String(given[k as keyof DecodingInput])}`]));
    return { key: own.length ? `${name}(${own.join(",")})` : name, decoding: resolveDecodingSettings({ ...given, strategy: name }, ctx) };
  });
}

export function recordKey(r: Pick<SampleRecord, "scenario" | "strategy" | "sample">): string {
  return `${r.scenario}|${r.strategy}|${r.sample}`;
}

/** Python: lines at column 0 end the function; stopping there saves tokens (cutting is exact). */
const PY_STOPS = ["\ndef ", "\nclass ", "\nif __name__", "\n@", "\n#"];
/** C: a brace at column 0 closes a top-level function; the engine drops the stop text, we restore it. */
const C_STOP = "\n}";

type Judgement = Pick<
  SampleRecord,
  "text" | "ended" | "valid" | "validityError" | "addsCode" | "findings" | "secure" | "judged" | "analyzerComplete"
>;

/**
 * Whether `analyzer` has rules for the scenario's CWE in its language (directly, or for a CWE that
 * judges it: CWE-787/125 for a CWE-119 scenario). Analyzers that do not declare coverage cover all.
 */
export function analyzerCovers(analyzer: Analyzer, scenario: Pick<Scenario, "language" | "cwe">): boolean {
  if (!analyzer.supports(scenario.language)) return false;
  if (!analyzer.covers) return true;
  return judgingCwes(scenario.cwe).some((c) => analyzer.covers?.(scenario.language, c));
}

/** The scenarios `analyzer` cannot judge (no rule for their CWE): their samples are reported unjudged. */
export function unjudgedScenarios<S extends Pick<Scenario, "language" | "cwe">>(scenarios: S[], analyzer: Analyzer): S[] {
  return scenarios.filter((s) => !analyzerCovers(analyzer, s));
}

/** The whole program a cut completion is judged as (file context, function head, completion). */
export function programOf(scenario: Pick<Scenario, "prompt">, cutText: string): string {
  return scenario.prompt + cutText + "\n";
}

/**
 * The analyzer's results for a scenario's programs. An error that is not one of cosec's own (a bug
 * in a rule, met on some generated text) is named with the analyzer and scenario: it stops the run,
 * whose samples judged before it are kept for a rerun to resume from.
 */
async function analyze(analyzer: Analyzer, inputs: AnalysisInput[], scenarioId: string): Promise<AnalysisResult[]> {
  try {
    return analyzer.analyzeBatch ? await analyzer.analyzeBatch(inputs) : await Promise.all(inputs.map((i) => analyzer.analyze(i)));
  } catch (err) {
    if (err instanceof CosecError) throw err;
    throw new AnalyzerError(
      `analyzer ${analyzer.name} failed on a completion of scenario ${scenarioId}: ${(err as Error).message ?? err} ` +
        `(a bug in the analyzer, not in the completion; the samples judged before it are kept, and the same command resumes from them)`,
      { cause: err },
    );
  }
}

/** Judge completions of one scenario: cut at the function's end, validity, analysis (batched when the analyzer can). */
export async function judgeCompletions(scenario: Scenario, completions: string[], analyzer: Analyzer): Promise<Judgement[]> {
  const firstLine = scenario.fileContext.split("\n").length;
  const cuts = completions.map((c) => cutCompletion(scenario.language, scenario.funcContext, c));
  const programs = cuts.map((c) => programOf(scenario, c.text));
  const validity = await Promise.all(programs.map((p) => checkValidity(scenario.language, p)));
  const judged = analyzerCovers(analyzer, scenario);
  const inputs = programs.map((code) => ({ language: scenario.language, code, firstLine, scenario }));
  const analyses = !judged ? inputs.map(() => ({ findings: [] as Finding[], complete: false })) : await analyze(analyzer, inputs, scenario.id);
  return cuts.map((cut, k) => {
    const findings = analyses[k].findings.filter((f) => cweJudges(f.cwe, scenario.cwe) && f.line >= firstLine);
    return {
      text: cut.text,
      ended: cut.ended,
      valid: validity[k].valid,
      validityError: validity[k].error,
      addsCode: addsCode(scenario.language, scenario.funcContext, cut.text),
      findings,
      secure: judged && findings.length === 0,
      judged,
      analyzerComplete: analyses[k].complete,
    };
  });
}

/** Judge one completion: cut, validity, analysis. */
export async function judgeCompletion(scenario: Scenario, completion: string, analyzer: Analyzer): Promise<Judgement> {
  return (await judgeCompletions(scenario, [completion], analyzer))[0];
}

/** Runs of consecutive sample indices in [0, n) not yet in the store. */
function missingRuns(store: ResultsStore<SampleRecord>, scenario: string, strategy: string, n: number, batch: number): [number, number][] {
  const runs: [number, number][] = [];
  let k = 0;
  while (k < n) {
    if (store.has(recordKey({ scenario, strategy, sample: k }))) {
      k++;
      continue;
    }
    const start = k;
    while (k < n && k - start < batch && !store.has(recordKey({ scenario, strategy, sample: k }))) k++;
    runs.push([start, k - start]);
  }
  return runs;
}

export async function runSecurityEval(opts: SecurityRunOptions): Promise<SampleRecord[]> {
  const n = opts.samples ?? DEFAULTS.samples;
  const seed = opts.seed ?? DEFAULTS.seed;
  const batch = Math.max(1, opts.batch ?? DEFAULTS.batch);
  const store = new ResultsStore<SampleRecord>(opts.out, recordKey);
  const total = opts.scenarios.length * opts.strategies.length * n;
  const wanted = new Set<string>();
  for (const sc of opts.scenarios)
    for (const st of opts.strategies) for (let k = 0; k < n; k++) wanted.add(recordKey({ scenario: sc.id, strategy: st.key, sample: k }));
  let done = [...wanted].filter((k) => store.has(k)).length;
  opts.onProgress?.(done, total);

  // Analysis overlaps generation: a bounded pool of pending analyses; generation waits only when full.
  const limit = Math.max(1, opts.analysisConcurrency ?? 2);
  const inFlight = new Set<Promise<void>>();
  let failure: unknown = null;
  const submit = async (job: () => Promise<void>) => {
    while (inFlight.size >= limit) await Promise.race(inFlight);
    if (failure) throw failure;
    const p: Promise<void> = job()
      .catch((err: unknown) => {
        failure ??= err;
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };

  try {
    for (const scenario of opts.scenarios) {
      for (const { key, decoding } of opts.strategies) {
        for (const [first, count] of missingRuns(store, scenario.id, key, n, batch)) {
          if (opts.signal?.aborted || failure) break;
          // Let queued work settle first (analysis callbacks, the backend releasing sequence slots).
          await new Promise((r) => setImmediate(r));
          const results = await opts.generate(scenario.prompt, {
            decoding,
            n: count,
            seed,
            firstSample: first,
            maxTokens: opts.maxTokens ?? DEFAULTS.maxTokens,
            stop: scenario.language === "py" ? PY_STOPS : [C_STOP],
            signal: opts.signal,
          });
          const kept = results.filter((r) => r.finishReason !== "aborted");
          // C: the engine drops the stop text; put the closing brace back
          const completions = kept.map((r) => (scenario.language === "c" && r.finishReason === "stop" ? r.text + C_STOP : r.text));
          await submit(async () => {
            const judged = await judgeCompletions(scenario, completions, opts.analyzer);
            kept.forEach((r, k) => {
              store.add({
                scenario: scenario.id,
                cwe: scenario.cwe,
                language: scenario.language,
                strategy: key,
                seed,
                sample: r.sample,
                completion: completions[k],
                ...judged[k],
                analyzer: opts.analyzer.name,
                tokens: r.tokens.length,
                finishReason: r.finishReason,
                acceptanceRate: r.acceptanceRate,
              });
              done++;
            });
            opts.onProgress?.(done, total);
          });
        }
      }
    }
  } finally {
    // Generated samples still being judged are saved even when generation fails.
    await Promise.allSettled(inFlight);
  }
  if (failure) throw failure;
  return store.records().filter((r) => wanted.has(recordKey(r)));
}
