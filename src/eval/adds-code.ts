// Does a completion add code, or only comments, docstrings and whitespace? A small model often
// "completes" a function by continuing the comment the prompt ends in; such a sample parses, so
// validity alone overstates what the model wrote. The completion is scanned in the context of the
// function's beginning, so a prompt that ends inside a comment or string is read correctly.
import type { ScenarioLanguage } from "./scenarios.ts";

type Mode = { kind: "code" } | { kind: "line-comment" } | { kind: "block-comment" } | { kind: "string"; quote: string };

const WORD = /[A-Za-z0-9_]/;
const PY_PREFIX = /^(?:r|u|b|f|rb|br|fr|rf)$/i;

/** True when the completion holds an identifier, keyword or number outside comments and strings. */
export function addsCode(language: ScenarioLanguage, funcContext: string, completion: string): boolean {
  const text = funcContext + completion;
  const start = funcContext.length;
  let mode: Mode = { kind: "code" };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (mode.kind === "line-comment") {
      if (ch === "\n") mode = { kind: "code" };
      continue;
    }
    if (mode.kind === "block-comment") {
      if (ch === "*" && text[i + 1] === "/") {
        mode = { kind: "code" };
        i++;
      }
      continue;
    }
    if (mode.kind === "string") {
      if (ch === "\\") i++;
      else if (text.startsWith(mode.quote, i)) {
        i += mode.quote.length - 1;
        mode = { kind: "code" };
      } else if (ch === "\n" && mode.quote.length === 1) mode = { kind: "code" }; // unterminated: ends at the line
      continue;
    }
    const open = language === "py" ? pythonOpening(text, i) : cOpening(text, i);
    if (open) {
      mode = open.mode;
      i += open.skip;
      continue;
    }
    if (WORD.test(ch)) {
      let j = i;
      while (j < text.length && WORD.test(text[j])) j++;
      const isStringPrefix = language === "py" && (text[j] === "'" || text[j] === '"') && PY_PREFIX.test(text.slice(i, j));
      if (!isStringPrefix && j > start) return true; // a word that ends inside the completion
      i = j - 1;
    }
  }
  return false;
}

function pythonOpening(text: string, i: number): { mode: Mode; skip: number } | null {
  const ch = text[i];
  if (ch === "#") return { mode: { kind: "line-comment" }, skip: 0 };
  if (ch === "'" || ch === '"') {
    const triple = ch.repeat(3);
    const quote = text.startsWith(triple, i) ? triple : ch;
    return { mode: { kind: "string", quote }, skip: quote.length - 1 };
  }
  return null;
}

function cOpening(text: string, i: number): { mode: Mode; skip: number } | null {
  const ch = text[i];
  if (ch === "/" && text[i + 1] === "/") return { mode: { kind: "line-comment" }, skip: 1 };
  if (ch === "/" && text[i + 1] === "*") return { mode: { kind: "block-comment" }, skip: 1 };
  if (ch === "'" || ch === '"') return { mode: { kind: "string", quote: ch }, skip: 0 };
  return null;
}
