// `cosec analyze FILE...`: judge source files with an analyzer (the same ones the evaluations use)
// and print the findings, or write them as SARIF for an editor or code-scanning upload.
import { existsSync, readFileSync } from "node:fs";
import { extname } from "node:path";
import { ANALYZERS, DEFAULT_ANALYZER, createAnalyzer } from "../eval/analyzers/index.ts";
import { writeSarif } from "../eval/analyzers/sarif.ts";
import type { Finding } from "../eval/analyzers/types.ts";
import { closeSharedPythonWorker } from "../eval/python-worker.ts";
import { normaliseCwe, type ScenarioLanguage } from "../eval/scenarios.ts";
import { CosecError, InvalidArgumentError } from "../errors.ts";
import { parseOrHelp } from "./options.ts";
import { lookupTable } from "../lookup-table.ts";

const HELP = `usage: cosec analyze [options] FILE...

Judges Python (.py) and C (.c, .h) files with an analyzer and prints each finding as
FILE:LINE: CWE [tool rule] message. Exit status: 0 no finding, 1 findings, 2 bad input.

options:
  --analyzer NAME   ${ANALYZERS.join(" | ")} (default ${DEFAULT_ANALYZER})
  --cwe LIST        only findings of these CWEs, comma-separated (e.g. 089,476)
  -I DIR            include folder for C files (repeatable)
  --sarif FILE      also write the findings as SARIF 2.1.0 (the files embedded as artifacts)
  --codeql PATH     codeql binary (codeql analyzer)
  -h, --help        this help`;

const LANGUAGE_OF: Readonly<Record<string, ScenarioLanguage>> = lookupTable<ScenarioLanguage>({ ".py": "py", ".c": "c", ".h": "c" });

export async function run(argv: string[]): Promise<number> {
  // exit status 1 means findings (as linters do), so errors are 2 here, not the CLI's usual 1
  try {
    return await analyze(argv);
  } catch (err) {
    if (!(err instanceof CosecError)) throw err;
    console.error(`cosec analyze: ${err.message}`);
    return 2;
  }
}

async function analyze(argv: string[]): Promise<number> {
  const parsed = parseOrHelp({
    args: argv,
    allowPositionals: true,
    options: {
      analyzer: { type: "string", default: DEFAULT_ANALYZER },
      cwe: { type: "string" },
      include: { type: "string", short: "I", multiple: true },
      sarif: { type: "string" },
      codeql: { type: "string" },
    },
  }, HELP);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  if (positionals.length === 0) throw new InvalidArgumentError("FILE", "name at least one file to analyze");
  const files = positionals.map((file) => {
    const language = LANGUAGE_OF[extname(file).toLowerCase()];
    if (!language) throw new InvalidArgumentError("FILE", `${file}: unknown language (analyze .py, .c or .h files)`);
    if (!existsSync(file)) throw new InvalidArgumentError("FILE", `${file} does not exist`);
    return { file, language, code: readFileSync(file, "utf8") };
  });
  const cwes = values.cwe?.split(",").map((c) => normaliseCwe(c));
  const analyzer = createAnalyzer(values.analyzer, { codeql: values.codeql });
  try {
    const results = await Promise.all(
      files.map(async (f) => {
        if (!analyzer.supports(f.language)) throw new InvalidArgumentError("--analyzer", `the '${analyzer.name}' analyzer does not read ${f.language === "py" ? "Python" : "C"} (${f.file})`);
        const r = await analyzer.analyze({ language: f.language, code: f.code, includeDirs: values.include });
        const findings: Finding[] = r.findings.filter((x) => !cwes || cwes.includes(x.cwe));
        return { ...f, findings, complete: r.complete };
      }),
    );
    let total = 0;
    for (const r of results) {
      if (!r.complete) console.error(`${r.file}: the analyzer could judge only part of it (it does not parse or compile)`);
      for (const x of r.findings) {
        total++;
        console.log(`${r.file}:${x.line}: ${x.cwe} [${x.tool ?? analyzer.name} ${x.rule}] ${x.message}`);
      }
    }
    if (values.sarif) {
      writeSarif(values.sarif, results.map((r) => ({ uri: r.file, findings: r.findings, code: r.code })));
      console.error(`wrote ${values.sarif}`);
    }
    console.error(`${total} finding(s) in ${results.length} file(s), analyzer ${analyzer.name}`);
    return total > 0 ? 1 : 0;
  } finally {
    await analyzer.close?.();
    closeSharedPythonWorker();
  }
}
