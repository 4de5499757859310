// Shared ground for the C rules: the functions of a token stream and, per function, what its
// variables hold (untrusted input, lengths, call results, widths) and how they are compared.
import type { Finding } from "../types.ts";
import type { Token } from "./lexer.ts";

/** Calls whose result is never NULL (or not a pointer one would check). */
export const NONNULL_CALLS = /^(container_of|list_entry|list_first_entry|netdev_priv|sizeof|strlen|min|max|min_t|max_t|ERR_PTR|PTR_ERR|le\d+_to_cpu|be\d+_to_cpu|cpu_to_\w+|htons|htonl|ntohs|ntohl|READ_ONCE|offsetof|ARRAY_SIZE|BIT|atoi|strtol|abs|\w*printf|\w+_priv|current_\w+|get_current|this_cpu_ptr|per_cpu_ptr|rcu_dereference\w*)$/;
export const ALLOC_RE_STRICT =
  /^(malloc|calloc|realloc|reallocarray|strdup|strndup|fopen|fdopen|tmpfile|popen|opendir|getenv|k[mz]alloc|kcalloc|kmalloc_array|kmemdup|kstrdup|vmalloc|vzalloc|kvmalloc|kvzalloc|devm_k[mz]alloc|devm_kcalloc|g_malloc0?|xmalloc|av_malloc|av_mallocz|alloc_skb|\w+_alloc|\w+_new|\w+_create|\w+_open|\w+_find\w*|\w+_lookup\w*|\w+_get)$/;
/** Calls that free what their argument points to (not reference drops, which may keep it alive). */
export const DANGLING_FREE_RE =
  /^(free|kfree|kvfree|vfree|kzfree|kfree_sensitive|g_free|xfree|av_free|\w+_free|\w+_destroy|\w+_cleanup|[a-z]\w*_free_\w+)$/;
export const FREE_RE = /^(free|kfree|kvfree|vfree|kzfree|kfree_sensitive|g_free|xfree|av_free|av_freep|cfree|\w+_free|\w+_destroy|\w+_release|\w+_unref|\w+_put|put_\w+|fclose|closedir|sk_free|dev_kfree_skb\w*|kfree_skb|consume_skb)$/;
export const DEREF_CALLS = new Set([
  "memcpy", "memmove", "memset", "strcpy", "strncpy", "strcat", "strncat", "strlen", "strcmp", "strncmp",
  "sprintf", "snprintf", "fprintf", "fputs", "fputc", "fgets", "fgetc", "fread", "fwrite", "fscanf", "fseek",
  "ftell", "rewind", "fflush", "getline", "puts", "strchr", "strrchr", "strstr", "sscanf", "atoi", "strtol",
]);
export const UNBOUNDED_WRITES = new Set(["strcpy", "strcat", "sprintf", "vsprintf", "gets", "wcscpy", "wcscat", "stpcpy"]);
export const SIZED_COPIES = new Set(["memcpy", "memmove", "strncpy", "strncat", "memset", "read", "fread", "recv", "copy_from_user", "copy_to_user"]);
export const INPUT_CALLS = /^(atoi|atol|atoll|strtol|strtoul|strtoll|strtoull|rand|random|rand_r|[A-Z_]*RAND\w*|prandom_\w+|get_random_\w+|getchar|fgetc|getc|ntohs|ntohl|get_user|read\w*|get\w*|recv\w*|le\d+_to_cpu|be\d+_to_cpu|get_unaligned\w*)$/;
/** Calls returning how many bytes they stored (at most the size they were given; negative on error). */
export const READ_COUNT_CALLS = /^(read|pread|recv|recvfrom|recvmsg|fread|readv)$/;
export const KEYWORDS = new Set([
  "if", "else", "while", "for", "do", "switch", "case", "return", "sizeof", "goto", "break", "continue",
  "struct", "union", "enum", "typedef", "static", "const", "volatile", "unsigned", "signed", "int", "char",
  "short", "long", "float", "double", "void", "default", "extern", "register", "inline", "bool", "size_t",
]);
/** Words after which `a[i]` is an access, not a declaration. */
export const STATEMENT_WORDS = new Set(["return", "case", "else", "do", "goto", "sizeof"]);
export const CHECK_CALLS = /^(if|while|assert|BUG_ON|WARN_ON\w*|unlikely|likely|IS_ERR\w*|ASSERT|g_return_if_fail|g_return_val_if_fail|CHECK\w*|ERR_PTR|PTR_ERR)$/;
export const JUMPS = new Set(["return", "goto", "break", "continue", "exit", "abort", "_exit", "longjmp"]);
export const RELATIONAL = new Set(["<", "<=", ">", ">="]);
export const WIDE_TYPES = /^(long|int64_t|uint64_t|u64|s64|size_t|ssize_t|double|float|off_t|uintmax_t|intmax_t|__u64|__s64)$/;

/** Names that by convention may return NULL: allocation, lookup, iteration, parsing, cloning. */
export const MAYBE_NULL_RE = /(alloc|get|find|lookup|search|open|clone|dup|create|new|acquire|fetch|load|resource|next|prev|first|last|peek|parse|append|insert|start)/i;
/** Names that by convention return a pointer derived from a valid one (casts, accessors) or NULL on purpose. */
export const NEVER_NULL_RE = /(destroy|free|release|_put|unref|cast|_to_|^to_|priv$|_data$|^CMSG|_CB$|container|entry|_sk$|_inode$|_dev$)/i;

export interface Fn {
  /** Index of the body's `{` and its `}`. */
  open: number;
  close: number;
  params: Set<string>;
}

export function findFunctions(toks: Token[], match: Int32Array): Fn[] {
  const fns: Fn[] = [];
  let depth = 0;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i].text;
    if (toks[i].kind !== "op") continue;
    if (t === "{") {
      if (depth === 0 && i > 0 && toks[i - 1].text === ")") {
        const pOpen = match[i - 1];
        const params = new Set<string>();
        if (pOpen >= 0) {
          // the last identifier before each comma is a parameter name
          let lastId: string | null = null;
          for (let k = pOpen + 1; k < i - 1; k++) {
            if (toks[k].kind === "id" && !KEYWORDS.has(toks[k].text)) lastId = toks[k].text;
            if (toks[k].text === "," && lastId) params.add(lastId);
          }
          if (lastId) params.add(lastId);
        }
        const close = match[i] >= 0 ? Math.min(match[i], toks.length - 1) : toks.length - 1;
        fns.push({ open: i, close, params });
        i = close;
        continue;
      }
      depth++;
    } else if (t === "}") depth = Math.max(0, depth - 1);
  }
  return fns;
}

export class FnContext {
  readonly untrusted = new Set<string>();
  readonly wide = new Set<string>();
  readonly unsigned = new Set<string>();
  /** Declared with a `*` (`T *p`): arithmetic on them moves a pointer, it does not overflow an integer. */
  readonly pointers = new Set<string>();
  /** Declared float/double: their arithmetic rounds, it does not wrap. */
  readonly floats = new Set<string>();
  /** Assigned from strlen(...) / sizeof: bounded above by the buffer, not below by 1. */
  readonly lengths = new Set<string>();
  /** Assigned from a function's result (may be an error value such as -1). */
  readonly fromCall = new Set<string>();
  /** Assigned a byte count from read/recv/fread: bounded above by the size passed to the call. */
  readonly readCounts = new Set<string>();

  constructor(
    readonly toks: Token[],
    readonly match: Int32Array,
    readonly fn: Fn,
    /** Copies the value walk (values.ts) proved to fit their destination. */
    readonly safeCopies: ReadonlySet<number> = new Set(),
  ) {
    for (const p of fn.params) this.untrusted.add(p);
    this.scanTypes(match[fn.open - 1] >= 0 ? match[fn.open - 1] : fn.open, fn.close);
    this.propagate();
  }

  private scanTypes(from: number, to: number): void {
    const t = this.toks;
    for (let i = from; i < to; i++) {
      if (t[i].kind !== "id" || KEYWORDS.has(t[i].text) && !WIDE_TYPES.test(t[i].text)) continue;
      // `<type words> name` followed by = ; , ) [
      const nxt = t[i + 1]?.text;
      if (!(nxt === "=" || nxt === ";" || nxt === "," || nxt === ")" || nxt === "[")) continue;
      let k = i - 1;
      let wide = false;
      let unsigned = false;
      let typed = false;
      let float = false;
      const typeWord = (x: string) => {
        typed = true;
        if (WIDE_TYPES.test(x)) wide = true;
        if (/^(float|double|\w*Real\w*|gdouble|gfloat)$/.test(x)) float = true;
        if (/^(unsigned|size_t|u8|u16|u32|u64|uint\w*|__u\d+|UINT\w*|DWORD|WORD|BYTE)$/.test(x)) unsigned = true;
      };
      while (k >= from && (t[k].kind === "id" || t[k].text === "*")) {
        if (t[k].kind === "id") typeWord(t[k].text);
        k--;
      }
      // a later declarator of `T a, *b, c;` takes the type words that start the statement
      if (!typed && t[k]?.text === ",") for (const x of this.declarationType(k, from)) typeWord(x);
      if (!typed) continue;
      if (t[i - 1]?.text === "*") this.pointers.add(t[i].text);
      else if (float) this.floats.add(t[i].text);
      if (wide) this.wide.add(t[i].text);
      if (unsigned) this.unsigned.add(t[i].text);
    }
  }

  /** The leading type words of the declaration statement holding the `,` at `comma` (none if not one). */
  private declarationType(comma: number, from: number): string[] {
    const t = this.toks;
    let d = 0;
    let s = comma;
    for (; s > from; s--) {
      const x = t[s - 1].text;
      if (x === ")" || x === "]") d++;
      else if (x === "(" || x === "[") {
        if (d === 0) return [];
        d--;
      } else if (d === 0 && (x === ";" || x === "{" || x === "}")) break;
    }
    const words: string[] = [];
    for (let k = s; k < comma && (t[k].kind === "id" || t[k].text === "*"); k++) if (t[k].kind === "id") words.push(t[k].text);
    // `T a` at least: the last word is the first declarator's name
    return words.length >= 2 && !STATEMENT_WORDS.has(words[0]) ? words.slice(0, -1) : [];
  }

  /** Values from parameters, input functions and rand() taint what is computed from them. */
  private propagate(): void {
    const t = this.toks;
    for (let pass = 0; pass < 2; pass++) {
      for (let i = this.fn.open; i < this.fn.close; i++) {
        // scanf("%d", &v) / fscanf / sscanf: v is input
        if (t[i].kind === "id" && /scanf$/.test(t[i].text) && t[i + 1]?.text === "(") {
          const end = this.match[i + 1];
          for (let k = i + 2; k < end; k++) if (t[k].text === "&" && t[k + 1]?.kind === "id") this.untrusted.add(t[k + 1].text);
        }
        if (t[i].kind !== "id" || !(t[i + 1]?.text === "=" || t[i + 1]?.text === "+=" || t[i + 1]?.text === "*=")) continue;
        const end = this.statementEnd(i + 2);
        if (t[i + 1].text === "=" && t[i + 2]?.kind === "id" && t[i + 3]?.text === "(" && this.match[i + 3] === end - 1) {
          if (/^(strlen|strnlen|wcslen|sizeof)$/.test(t[i + 2].text)) this.lengths.add(t[i].text);
          else if (READ_COUNT_CALLS.test(t[i + 2].text)) this.readCounts.add(t[i].text);
          else if (!KEYWORDS.has(t[i + 2].text)) this.fromCall.add(t[i].text);
        }
        for (let k = i + 2; k < end; k++) {
          const tk = t[k];
          if (tk.kind !== "id") continue;
          if ((t[k + 1]?.text === "(" && INPUT_CALLS.test(tk.text)) || (this.untrusted.has(tk.text) && t[k + 1]?.text !== "(")) {
            if (!this.lengthOf(i + 2, end)) this.untrusted.add(t[i].text);
            break;
          }
        }
      }
    }
  }

  /** `strlen(...)`/`sizeof` only: a length, not attacker-chosen arithmetic. */
  private lengthOf(from: number, end: number): boolean {
    return this.toks.slice(from, end).some((x) => x.text === "sizeof") && !this.toks.slice(from, end).some((x) => x.text === "*");
  }

  statementEnd(i: number): number {
    const t = this.toks;
    while (i < this.fn.close) {
      const x = t[i].text;
      if (x === ";" || x === "{" || x === "}") return i;
      if ((x === "(" || x === "[") && this.match[i] > i) {
        i = this.match[i] + 1;
        continue;
      }
      i++;
    }
    // An unclosed bracket (broken generated code) matches past the function: stay inside it.
    return Math.min(i, this.fn.close);
  }

  /** The identifier at `i` sits inside a condition (if/while/assert/...) or a logical test. */
  inCondition(i: number, last = i): boolean {
    const t = this.toks;
    const prev = t[i - 1]?.text;
    const next = t[last + 1]?.text;
    if (prev === "!" || next === "==" || next === "!=" || next === "?" || prev === "==" || prev === "!=") return true;
    if (next === "&&" || next === "||" || prev === "&&" || prev === "||") return true;
    // walk out to the enclosing parenthesis and look at what owns it
    let depth = 0;
    for (let k = i - 1; k > this.fn.open; k--) {
      const x = t[k].text;
      if (x === ")") depth++;
      else if (x === "(") {
        if (depth === 0) return CHECK_CALLS.test(t[k - 1]?.text ?? "") && (next === ")" || next === "&&" || next === "||");
        depth--;
      } else if (x === ";" || x === "{" || x === "}") return false;
    }
    return false;
  }

  /** Was `name` tested against zero (`!x`, `x == 0`, `x != 0`, `if (x)`) in [from, to)? */
  testedZero(name: string, from: number, to: number): boolean {
    const t = this.toks;
    for (let k = from; k < to; k++) {
      if (t[k].text !== name || t[k - 1]?.text === "." || t[k - 1]?.text === "->") continue;
      if (t[k - 1]?.text === "!" && t[k - 2]?.text !== "!") return true;
      if (/^(==|!=)$/.test(t[k + 1]?.text ?? "") && t[k + 2]?.text === "0") return true;
      if (/^(==|!=)$/.test(t[k - 1]?.text ?? "") && t[k - 2]?.text === "0") return true;
      if (t[k - 1]?.text === "(" && t[k + 1]?.text === ")" && /^(if|while)$/.test(t[k - 2]?.text ?? "")) return true;
    }
    return false;
  }

  /** Was `name` tested at all (==, !=, <, ...) in [from, to)? */
  tested(name: string, from: number, to: number): boolean {
    const t = this.toks;
    for (let k = from; k < to; k++) {
      if (t[k].text !== name || t[k - 1]?.text === "." || t[k - 1]?.text === "->") continue;
      if (/^(==|!=|<|<=|>|>=)$/.test(t[k + 1]?.text ?? "") || /^(==|!=|<|<=|>|>=)$/.test(t[k - 1]?.text ?? "")) return true;
    }
    return false;
  }

  /** Was `name` compared (<, <=, >, >=, or min/max/clamp) anywhere in [from, to)? */
  comparisons(name: string, from: number, to: number): { upper: boolean; lower: boolean } {
    const t = this.toks;
    let upper = false;
    let lower = false;
    for (let k = from; k < to; k++) {
      if (t[k].text !== name) continue;
      if (t[k - 1]?.text === "." || t[k - 1]?.text === "->") continue;
      const around = [t[k - 1], t[k + 1]];
      for (const [j, side] of [[k + 1, "right"], [k - 1, "left"]] as const) {
        const op = t[j]?.text;
        if (!op || !RELATIONAL.has(op)) continue;
        const other = side === "right" ? t[j + 1] : t[j - 1];
        if (other && (other.text === "0" || other.text === "-" || other.text === "1" && (op === ">=" || op === "<"))) lower = true;
        else upper = true;
      }
      // `x + 1 < size`, `x + n <= len`: an upper bound on x with a non-negative offset
      if (t[k + 1]?.text === "+" && (t[k + 2]?.kind === "num" || t[k + 2]?.kind === "id") && RELATIONAL.has(t[k + 3]?.text ?? "") &&
        t[k + 4]?.text !== "0" && !/^[*/%]$/.test(t[k - 1]?.text ?? "")) upper = true;
      if (around.some((x) => x && /^(min|max|min_t|max_t|clamp|MIN|MAX|array_index_nospec)$/.test(x.text))) upper = lower = true;
      // abs(x) compared with a bound bounds x on both sides: `abs((long)x) <= limit`
      for (let j = k - 1; j > Math.max(from, k - 8); j--) {
        if (/^(abs|labs|llabs|imaxabs|fabs)$/.test(t[j].text) && t[j + 1]?.text === "(" && this.match[j + 1] > k) {
          const close = this.match[j + 1];
          if (RELATIONAL.has(t[close + 1]?.text ?? "") || RELATIONAL.has(t[j - 1]?.text ?? "")) upper = lower = true;
          break;
        }
        if (/^[;{}]$/.test(t[j].text)) break;
      }
      // inside min(...)/clamp(...) call arguments
      for (let j = k - 1; j > Math.max(from, k - 8); j--) {
        if (/^(min|min_t|clamp|clamp_t|MIN|array_index_nospec)$/.test(t[j].text)) upper = lower = true;
        if (t[j].text === ";") break;
      }
    }
    return { upper, lower };
  }
}

export function add(out: Finding[], cwe: string, tok: Token, rule: string, message: string): void {
  out.push({ cwe, line: tok.line, rule, message });
}

/** Is the token at i a (non-member) use of variable `name`? */
export function isVar(toks: Token[], i: number, name: string): boolean {
  return toks[i].text === name && toks[i - 1]?.text !== "." && toks[i - 1]?.text !== "->";
}

export function isAssignmentTo(toks: Token[], i: number): boolean {
  return toks[i + 1]?.text === "=" && toks[i - 1]?.text !== "*";
}


export function pathAt(t: Token[], j: number, path: string[]): boolean {
  if (t[j - 1]?.text === "." || t[j - 1]?.text === "->") return false;
  for (let k = 0; k < path.length; k++) if (t[j + k]?.text !== path[k]) return false;
  return true;
}

/**
 * Can the signed variable be negative at `at`? A parameter or an input (scanf, atoi, rand, ..)
 * can; a local otherwise only through a negative constant, a subtraction or a decrement. Sums,
 * products, members and counts of non-negative values stay non-negative, so a loop counter or an
 * offset built from them needs no lower bound check.
 */
export function mayBeNegative(ctx: FnContext, name: string, at: number): boolean {
  const t = ctx.toks;
  if (ctx.fn.params.has(name)) return true;
  for (let k = ctx.fn.open + 1; k < at; k++) {
    if (t[k].text !== name || t[k - 1]?.text === "->" || t[k - 1]?.text === ".") continue;
    const next = t[k + 1]?.text ?? "";
    const prev = t[k - 1]?.text ?? "";
    if (next === "--" || prev === "--" || next === "-=" || prev === "&") return true;
    if (next !== "=" && next !== "+=" && next !== "*=") continue;
    const end = ctx.statementEnd(k);
    for (let j = k + 2; j < end; j++) {
      const x = t[j];
      if (x.text === "-" || x.text === "~") return true;
      if (x.kind === "id" && t[j + 1]?.text === "(" && INPUT_CALLS.test(x.text)) return true;
      // another value that may be negative
      if (x.kind === "id" && x.text !== name && t[j - 1]?.text !== "->" && t[j - 1]?.text !== "." && t[j + 1]?.text !== "(" &&
        (ctx.fn.params.has(x.text) && !ctx.unsigned.has(x.text))) return true;
    }
  }
  return false;
}
