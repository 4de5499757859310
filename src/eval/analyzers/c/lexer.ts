// A small, error-tolerant C tokenizer: it never fails, so broken or cut-off code is still judged.
// Comments and preprocessor lines are dropped; string and char literals are single tokens.

export type TokenKind = "id" | "num" | "str" | "chr" | "op";

export interface Token {
  kind: TokenKind;
  text: string;
  line: number;
}

const OPS = [
  "<<=", ">>=", "...", "->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||",
  "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "::",
];

export function lexC(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = true;
  const n = src.length;
  while (i < n) {
    const ch = src[i];
    if (ch === "\n") {
      line++;
      i++;
      lineStart = true;
      continue;
    }
    if (ch === " " || ch === "\t" || ch === "\r" || ch === "\f" || ch === "\v") {
      i++;
      continue;
    }
    if (ch === "#" && lineStart) {
      // preprocessor directive, with backslash continuations
      while (i < n && src[i] !== "\n") {
        if (src[i] === "\\" && src[i + 1] === "\n") {
          line++;
          i++;
        }
        i++;
      }
      continue;
    }
    lineStart = false;
    if (ch === "/" && src[i + 1] === "/") {
      while (i < n && src[i] !== "\n") i++;
      continue;
    }
    if (ch === "/" && src[i + 1] === "*") {
      const end = src.indexOf("*/", i + 2);
      const stop = end === -1 ? n : end + 2;
      for (let k = i; k < stop; k++) if (src[k] === "\n") line++;
      i = stop;
      continue;
    }
    if (ch === '"' || ch === "'") {
      const start = i;
      i++;
      while (i < n && src[i] !== ch && src[i] !== "\n") i += src[i] === "\\" ? 2 : 1;
      i++;
      out.push({ kind: ch === '"' ? "str" : "chr", text: src.slice(start, Math.min(i, n)), line });
      continue;
    }
    if (/[A-Za-z_]/.test(ch)) {
      const start = i;
      while (i < n && /[A-Za-z0-9_]/.test(src[i])) i++;
      out.push({ kind: "id", text: src.slice(start, i), line });
      continue;
    }
    if (/[0-9]/.test(ch) || (ch === "." && /[0-9]/.test(src[i + 1] ?? ""))) {
      const start = i;
      while (i < n && /[0-9A-Za-z_.]/.test(src[i])) i++;
      out.push({ kind: "num", text: src.slice(start, i), line });
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i)) ?? ch;
    out.push({ kind: "op", text: op, line });
    i += op.length;
  }
  return out;
}

/** For each bracket token index, the index of its partner (unbalanced ones map to the end). */
export function matchBrackets(toks: readonly Token[]): Int32Array {
  const match = new Int32Array(toks.length).fill(-1);
  const stack: number[] = [];
  const pairs: Record<string, string> = { ")": "(", "]": "[", "}": "{" };
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i].text;
    if (toks[i].kind !== "op") continue;
    if (t === "(" || t === "[" || t === "{") stack.push(i);
    else if (t in pairs) {
      // pop to the nearest matching opener (tolerates stray brackets in broken code)
      let k = stack.length - 1;
      while (k >= 0 && toks[stack[k]].text !== pairs[t]) k--;
      if (k < 0) continue;
      const open = stack[k];
      stack.length = k;
      match[open] = i;
      match[i] = open;
    }
  }
  for (const open of stack) match[open] = toks.length;
  return match;
}
