// Cut a raw completion where the scenario's function ends, so that analysis and validity look at
// the function only (models often go on writing more code after it).
import type { ScenarioLanguage } from "./scenarios.ts";

export interface CutResult {
  /** The completion up to the end of the function. */
  text: string;
  /** Whether the function's end was found (otherwise `text` is the whole completion). */
  ended: boolean;
}

export function cutCompletion(language: ScenarioLanguage, funcContext: string, completion: string): CutResult {
  return language === "py" ? cutPython(funcContext, completion) : cutC(funcContext, completion);
}

// ---------------------------------------------------------------- Python

interface PyState {
  /** Open string delimiter (`'`, `"`, `'''`, `"""`) or null. */
  quote: string | null;
  depth: number;
}

/** Advance the lexical state over one line's characters (line without its newline). */
function scanPyLine(line: string, st: PyState): void {
  let i = 0;
  while (i < line.length) {
    const ch = line[i];
    if (st.quote) {
      if (ch === "\\") {
        i += 2;
        continue;
      }
      if (line.startsWith(st.quote, i)) {
        i += st.quote.length;
        st.quote = null;
        continue;
      }
      i++;
      continue;
    }
    if (ch === "#") return;
    if (ch === "'" || ch === '"') {
      const triple = line.startsWith(ch.repeat(3), i);
      st.quote = triple ? ch.repeat(3) : ch;
      i += st.quote.length;
      continue;
    }
    if (ch === "(" || ch === "[" || ch === "{") st.depth++;
    else if (ch === ")" || ch === "]" || ch === "}") st.depth = Math.max(0, st.depth - 1);
    i++;
  }
  // A single-quoted string cannot span lines (unless escaped); recover instead of swallowing the rest.
  if (st.quote && st.quote.length === 1 && !line.endsWith("\\")) st.quote = null;
}

function indentOf(line: string): number {
  let n = 0;
  for (const ch of line) {
    if (ch === " ") n++;
    else if (ch === "\t") n += 8 - (n % 8);
    else break;
  }
  return n;
}

/**
 * Python: the function ends at the first non-empty line (outside strings and brackets) indented no
 * deeper than its `def` line.
 */
export function cutPython(funcContext: string, completion: string): CutResult {
  const ctxLines = funcContext.split("\n");
  const defLine = ctxLines.find((l) => /^\s*(async\s+)?def\s/.test(l));
  const defIndent = defLine === undefined ? 0 : indentOf(defLine);
  const st: PyState = { quote: null, depth: 0 };
  for (const l of ctxLines.slice(0, -1)) scanPyLine(l, st);
  // The prompt's last line may be unfinished: the completion's first line continues it.
  const lines = completion.split("\n");
  const lastCtx = ctxLines[ctxLines.length - 1];
  let offset = 0;
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k];
    const atLineStart = k > 0 || lastCtx === "";
    if (atLineStart && st.quote === null && st.depth === 0 && line.trim() !== "" && indentOf(line) <= defIndent) {
      return { text: trimTrailingBlankLines(completion.slice(0, offset)), ended: true };
    }
    scanPyLine(k === 0 ? lastCtx + line : line, st);
    offset += line.length + 1;
  }
  return { text: completion, ended: false };
}

function trimTrailingBlankLines(text: string): string {
  return text.replace(/\s+$/, "");
}

// ---------------------------------------------------------------- C

/**
 * C: the function ends at the brace that closes its body, counting braces outside strings,
 * character literals and comments.
 */
export function cutC(funcContext: string, completion: string): CutResult {
  const all = funcContext + completion;
  let depth = 0;
  let opened = false;
  let i = 0;
  while (i < all.length) {
    const ch = all[i];
    const next = all[i + 1];
    if (ch === "/" && next === "/") {
      const nl = all.indexOf("\n", i);
      i = nl === -1 ? all.length : nl;
      continue;
    }
    if (ch === "/" && next === "*") {
      const end = all.indexOf("*/", i + 2);
      i = end === -1 ? all.length : end + 2;
      continue;
    }
    if (ch === '"' || ch === "'") {
      i++;
      while (i < all.length && all[i] !== ch && all[i] !== "\n") i += all[i] === "\\" ? 2 : 1;
      i++;
      continue;
    }
    if (ch === "{") {
      depth++;
      opened = true;
    } else if (ch === "}") {
      depth--;
      if (opened && depth === 0 && i >= funcContext.length) {
        return { text: completion.slice(0, i + 1 - funcContext.length), ended: true };
      }
    }
    i++;
  }
  return { text: completion, ended: false };
}
