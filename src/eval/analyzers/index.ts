// Analyzer by name, for the command line.
import { InvalidArgumentError } from "../../errors.ts";
import { BanditAnalyzer } from "./bandit.ts";
import { BuiltinAnalyzer } from "./builtin.ts";
import { CodeqlAnalyzer } from "./codeql.ts";
import type { Analyzer } from "./types.ts";

export const ANALYZERS = ["builtin", "bandit", "codeql"] as const;

export function createAnalyzer(name: string, opts: { codeql?: string; queries?: string; cppcheck?: boolean } = {}): Analyzer {
  if (name === "builtin") return new BuiltinAnalyzer(undefined, opts.cppcheck ?? true);
  if (name === "bandit") return new BanditAnalyzer();
  if (name === "codeql") return new CodeqlAnalyzer({ codeql: opts.codeql, queries: opts.queries });
  throw new InvalidArgumentError("--analyzer", `unknown analyzer '${name}' (one of ${ANALYZERS.join(", ")})`);
}
