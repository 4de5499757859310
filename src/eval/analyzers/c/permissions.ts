// CWE-732 in C: files and directories created or changed with a constant mode that lets other users
// write (or 0777/0666), and umask() calls that leave others' write bit open. Modes are octal
// literals or S_I* flags (possibly OR-ed); a mode held in a variable is not judged.
import type { Finding } from "../types.ts";
import { lexC, type Token } from "./lexer.ts";
import { lookupTable } from "../../../lookup-table.ts";

/** Calls with a mode argument: name -> index of the mode among the arguments. */
const MODE_ARG: Readonly<Record<string, number>> = lookupTable<number>({ chmod: 1, fchmod: 1, fchmodat: 2, mkdir: 1, mkdirat: 2, mkfifo: 1, open: 2, openat: 3, creat: 1 });

const BITS: Readonly<Record<string, number>> = lookupTable<number>({
  S_IRWXU: 0o700, S_IRUSR: 0o400, S_IWUSR: 0o200, S_IXUSR: 0o100, S_IRWXG: 0o070, S_IRGRP: 0o040, S_IWGRP: 0o020,
  S_IXGRP: 0o010, S_IRWXO: 0o007, S_IROTH: 0o004, S_IWOTH: 0o002, S_IXOTH: 0o001, S_ISUID: 0o4000, S_ISGID: 0o2000,
  S_ISVTX: 0o1000, S_IREAD: 0o400, S_IWRITE: 0o200, S_IEXEC: 0o100,
});

/** The value of a constant mode expression (tokens of one argument), or null. */
export function modeValue(toks: Token[]): number | null {
  let v = 0;
  let expectTerm = true;
  for (const t of toks) {
    if (t.text === "(" || t.text === ")") continue;
    if (expectTerm) {
      let x: number | undefined;
      if (t.kind === "num") {
        const s = t.text.replace(/[uUlL]+$/, "");
        x = /^0[0-7]+$/.test(s) ? parseInt(s, 8) : /^0x/i.test(s) ? parseInt(s, 16) : /^\d+$/.test(s) ? parseInt(s, 10) : undefined;
      } else if (t.kind === "id") x = BITS[t.text];
      if (x === undefined || Number.isNaN(x)) return null;
      v |= x;
      expectTerm = false;
    } else {
      if (t.text !== "|" && t.text !== "+") return null;
      expectTerm = true;
    }
  }
  return expectTerm ? null : v;
}

function tooOpen(mode: number): boolean {
  return (mode & 0o002) !== 0 || (mode & 0o777) === 0o777 || (mode & 0o777) === 0o666;
}

/** The call's arguments as token lists (split at top-level commas), from the `(` at `open`. */
function callArgs(t: Token[], open: number): { args: Token[][]; close: number } {
  const args: Token[][] = [[]];
  let depth = 0;
  for (let i = open; i < t.length; i++) {
    const x = t[i].text;
    if (x === "(" || x === "[" || x === "{") {
      depth++;
      if (depth === 1) continue;
    } else if (x === ")" || x === "]" || x === "}") {
      depth--;
      if (depth === 0) return { args: args[0].length === 0 && args.length === 1 ? [] : args, close: i };
    } else if (x === "," && depth === 1) {
      args.push([]);
      continue;
    }
    args[args.length - 1].push(t[i]);
  }
  return { args, close: t.length };
}

export function permissionFindings(code: string): Finding[] {
  const t = lexC(code);
  const out: Finding[] = [];
  for (let i = 0; i + 1 < t.length; i++) {
    if (t[i].kind !== "id" || t[i + 1].text !== "(") continue;
    if (t[i - 1]?.text === "." || t[i - 1]?.text === "->") continue;
    const name = t[i].text;
    if (name === "umask") {
      const { args } = callArgs(t, i + 1);
      const m = args.length === 1 ? modeValue(args[0]) : null;
      if (m !== null && (m & 0o002) === 0) {
        out.push({ cwe: "CWE-732", line: t[i].line, rule: "c-permissive-umask", message: `umask(0${m.toString(8)}) leaves new files writable by others` });
      }
      continue;
    }
    const at = MODE_ARG[name];
    if (at === undefined) continue;
    const { args } = callArgs(t, i + 1);
    if (args.length <= at) continue;
    const m = modeValue(args[at]);
    if (m !== null && tooOpen(m)) {
      out.push({ cwe: "CWE-732", line: t[i].line, rule: "c-permissive-mode", message: `${name}() with mode 0${m.toString(8)} lets other users write` });
    }
  }
  return out;
}
