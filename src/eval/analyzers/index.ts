// Analyzer by name, for the command line. The default is the ensemble of the real tools set-up
// installs (ensemble.ts has the rule that combines them); `builtin` needs nothing but Python and gcc.
import { InvalidArgumentError } from "../../errors.ts";
import { BanditAnalyzer } from "./bandit.ts";
import { BuiltinAnalyzer } from "./builtin.ts";
import { ClangAnalyzer } from "./clang.ts";
import { CodeqlAnalyzer } from "./codeql.ts";
import { EnsembleAnalyzer } from "./ensemble.ts";
import { GccAnalyzer } from "./gcc.ts";
import type { Analyzer } from "./types.ts";

export const ANALYZERS = ["ensemble", "builtin", "clang", "gcc", "bandit", "codeql"] as const;
export const DEFAULT_ANALYZER = "ensemble";

export interface AnalyzerOptions {
  codeql?: string;
  queries?: string;
  /** The builtin analyzer adds cppcheck's C findings (default true). */
  cppcheck?: boolean;
}

/** The ensemble's members: every tool its rule may trust. */
export function ensembleMembers(opts: AnalyzerOptions = {}): Analyzer[] {
  return [new BuiltinAnalyzer(undefined, opts.cppcheck ?? true), new BanditAnalyzer(), new ClangAnalyzer(), new GccAnalyzer()];
}

export function createAnalyzer(name: string, opts: AnalyzerOptions = {}): Analyzer {
  if (name === "ensemble") return new EnsembleAnalyzer(ensembleMembers(opts));
  if (name === "builtin") return new BuiltinAnalyzer(undefined, opts.cppcheck ?? true);
  if (name === "clang") return new ClangAnalyzer();
  if (name === "gcc") return new GccAnalyzer();
  if (name === "bandit") return new BanditAnalyzer();
  if (name === "codeql") return new CodeqlAnalyzer({ codeql: opts.codeql, queries: opts.queries });
  throw new InvalidArgumentError("--analyzer", `unknown analyzer '${name}' (one of ${ANALYZERS.join(", ")})`);
}
