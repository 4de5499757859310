// `cosec eval security`: generate on SVEN scenarios with one or several strategies, judge each
// completion, write results.jsonl (resumable), summary.json and report.html.
import { join } from "node:path";
import { writeFileAtomic } from "../atomic-write.ts";
import { InvalidArgumentError } from "../errors.ts";
import { ANALYZERS, DEFAULT_ANALYZER, createAnalyzer } from "../eval/analyzers/index.ts";
import { progressBar } from "../eval/progress.ts";
import { closeSharedPythonWorker } from "../eval/python-worker.ts";
import { loadScenarios } from "../eval/scenarios.ts";
import { ResultsStore } from "../eval/results-store.ts";
import { DEFAULTS, RAW_TARGET, recordKey, runSecurityEval, securityRuns, unjudgedScenarios, type SampleRecord } from "../eval/security.ts";
import { checkSecurityRunSettings, securityRunSettings } from "../eval/security-run-config.ts";
import { writeSecuritySarif } from "../eval/security-sarif.ts";
import { securityReportHtml, summarizeSecurity, unjudgedWarning } from "../eval/summary.ts";
import { formatPairedDifference, gainsOver } from "../eval/paired-bootstrap.ts";
import { dataRoot } from "../paths.ts";
import {
  DECODING_HELP,
  DECODING_OPTIONS,
  MODEL_HELP,
  MODEL_OPTIONS,
  RUN_OPTIONS,
  decodingInputFrom,
  engineOptionsFrom,
  parseOrHelp,
  positiveInt,
  runOptionsFrom,
  str,
  strategyListFrom,
} from "./options.ts";

const HELP = `usage: cosec eval security --target GGUF [--expert GGUF [--expert-lora GGUF]] --out DIR [options]

Generates N samples per SVEN scenario and strategy, cuts each at the function's end, checks
validity (Python ast / gcc -fsyntax-only) and security (the analyzer finds nothing of the scenario's
CWE). Results go to DIR/results.jsonl (re-running continues it), DIR/summary.json, DIR/report.html
and DIR/findings.sarif (SARIF 2.1.0, every sample embedded); DIR/run.json records the settings that change samples, and a re-run with other ones is refused.

evaluation options:
  --out DIR                 output folder (required)
  --strategies LIST         comma-separated (default: target,cosec-plus with --expert, else target);
                            every strategy decodes sample i from the same random stream (paired);
                            target-raw: the target alone at temperature 1, no top-k/top-p (what
                            cosec-plus falls back to), to tell the expert's part of a gain
  --scenarios DIR           scenario tree (default: <data>/datasets/sven/data_eval/trained)
  --data DIR                data folder (default: $COSEC_DATA or ../shared)
  --cwe LIST                only these CWEs (e.g. 089,476)
  --only LIST               only scenario ids containing one of these (e.g. cwe-089/0-py)
  --samples N               samples per scenario and strategy (default ${DEFAULTS.samples})
  --batch N                 samples decoded together per request (default ${DEFAULTS.batch})
  --seed S                  seed (default ${DEFAULTS.seed})
  --max-tokens N            (default ${DEFAULTS.maxTokens})
  --analyzer NAME           ${ANALYZERS.join(" | ")} (default ${DEFAULT_ANALYZER}: the tools set-up
                            installs, combined per CWE); scenarios of a CWE the analyzer has no rule
                            for are reported unjudged (left out of the security ratio)
  --codeql PATH             codeql binary (default: codeql on PATH)
  --queries DIR             CodeQL query packs the scenarios' check_ql paths resolve against
  --no-cppcheck             builtin (and ensemble) analyzer without cppcheck's extra C findings

${DECODING_HELP}
  (--strategy: use --strategies)

${MODEL_HELP}
  -h, --help                this help`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseOrHelp({
    args: argv,
    options: {
      ...MODEL_OPTIONS,
      ...DECODING_OPTIONS,
      ...RUN_OPTIONS,
      strategies: { type: "string" },
      scenarios: { type: "string" },
      data: { type: "string" },
      cwe: { type: "string" },
      only: { type: "string" },
      samples: { type: "string" },
      batch: { type: "string" },
      analyzer: { type: "string", default: DEFAULT_ANALYZER },
      codeql: { type: "string" },
      queries: { type: "string" },
      "no-cppcheck": { type: "boolean", default: false },
      out: { type: "string" },
    },
  }, HELP);
  if (!parsed) return 0;
  const { values } = parsed;
  if (str(values, "strategy")) throw new InvalidArgumentError("--strategy", "use --strategies (a comma-separated list) with cosec eval security");
  if (!values.out) throw new InvalidArgumentError("--out", "an output folder is required");
  const samples = positiveInt(values, "samples") ?? DEFAULTS.samples;
  const batch = positiveInt(values, "batch") ?? DEFAULTS.batch;
  const engineOptions = engineOptionsFrom(values, { maxSequences: batch });
  const gen = runOptionsFrom(values);
  const list = (values.strategies ?? (str(values, "expert") ? "target,cosec-plus" : "target")).split(",").map((s) => s.trim());
  const strategies = securityRuns(list, (name) => strategyListFrom(name)[0], decodingInputFrom(values), { source: "cli", hasExpert: engineOptions.expert !== undefined });
  const root = values.scenarios ?? join(dataRoot(values.data), "datasets", "sven", "data_eval", "trained");
  const load = loadScenarios(root, { cwes: values.cwe?.split(","), only: values.only?.split(",") });
  for (const e of load.errors) console.error(`warning: ${e.message} (skipped)`);
  for (const s of load.skipped) console.error(`skipped ${s.id}: ${s.reason}`);
  if (load.scenarios.length === 0) throw new InvalidArgumentError("--scenarios", `no usable scenarios under ${root}`);
  const analyzer = createAnalyzer(values.analyzer, { codeql: values.codeql, queries: values.queries, cppcheck: !values["no-cppcheck"] });
  const uncovered = unjudgedScenarios(load.scenarios, analyzer);
  if (uncovered.length > 0) {
    const cwes = [...new Set(uncovered.map((s) => `${s.cwe} (${s.language})`))].join(", ");
    console.error(
      `warning: the '${analyzer.name}' analyzer has no rule for ${cwes}: ${uncovered.map((s) => s.id).join(", ")} ` +
        `will be reported as unjudged and left out of the security ratio`,
    );
  }
  const resultsFile = join(values.out, "results.jsonl");
  // Before loading models: a folder whose samples came from other settings is refused at once.
  const hasRecords = new ResultsStore<SampleRecord>(resultsFile, recordKey).size > 0;
  checkSecurityRunSettings(
    values.out,
    // The shared sampling is the strategies' (target-raw has its own, fixed one).
    securityRunSettings(engineOptions, (strategies.find((s) => s.key !== RAW_TARGET) ?? strategies[0]).decoding, gen, { analyzer: analyzer.name, cppcheck: !values["no-cppcheck"], queries: values.queries }),
    hasRecords,
  );

  const { Engine } = await import("../generate/engine.ts");
  const engine = await Engine.load(engineOptions);
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once("SIGINT", onSigint);
  try {
    const records = await runSecurityEval({
      scenarios: load.scenarios,
      strategies,
      generate: (prompt, opts) => engine.generate(prompt, opts),
      analyzer,
      out: resultsFile,
      samples,
      batch,
      seed: gen.seed,
      maxTokens: gen.maxTokens,
      signal: abort.signal,
      onProgress: progressBar("security"),
    });
    const summary = summarizeSecurity(records);
    // Each strategy against the target alone (and the target sampled raw), paired over scenarios.
    const gains = gainsOver(records, summary.strategies);
    writeFileAtomic(join(values.out, "summary.json"), JSON.stringify({ analyzer: analyzer.name, ...summary, gains }, null, 2) + "\n");
    writeFileAtomic(join(values.out, "report.html"), securityReportHtml(summary, analyzer.name));
    writeSecuritySarif(join(values.out, "findings.sarif"), load.scenarios, records);
    const p = (x: number | null) => (x === null ? "–" : `${(x * 100).toFixed(1)}%`);
    console.log("strategy            samples  validity  +code  security ratio [95% CI]      dedup   secure/all  acceptance");
    for (const g of summary.overall) {
      console.log(
        `${g.strategy.padEnd(19)} ${String(g.samples).padStart(7)}  ${p(g.validity.value).padStart(8)}  ${p(g.validWithCode.value).padStart(5)}  ` +
          `${`${p(g.security.value)} [${p(g.security.low)}, ${p(g.security.high)}]`.padEnd(27)} ${p(g.securityDedup.value).padStart(6)}  ` +
          `${p(g.securityAll.value).padStart(10)}  ${g.acceptanceRate === null ? "–" : g.acceptanceRate.toFixed(3)}`,
      );
    }
    for (const g of gains) console.log(formatPairedDifference(g));
    const warning = unjudgedWarning(summary, analyzer.name);
    if (warning) console.error(warning);
    console.log(`wrote ${resultsFile}, summary.json, report.html, findings.sarif`);
    return abort.signal.aborted ? 130 : 0;
  } finally {
    process.off("SIGINT", onSigint);
    await analyzer.close?.();
    closeSharedPythonWorker();
    await engine.dispose();
  }
}
