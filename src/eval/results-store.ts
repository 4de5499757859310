// Append-only JSONL results, keyed so that a restarted job skips what is done. A crash can leave a
// torn last line: it is dropped on load (and the file repaired) rather than failing the run; a
// complete last record that lost only its newline is kept and the newline restored.
import { appendFileSync, existsSync, mkdirSync, readFileSync, truncateSync, openSync, fsyncSync, closeSync } from "node:fs";
import { dirname } from "node:path";
import { ResultsFileError } from "../errors.ts";

export class ResultsStore<T extends object> {
  private readonly done = new Map<string, T>();

  /**
   * @param path JSONL file (created with its folder when missing)
   * @param keyOf the identity of a record, e.g. `${scenario}|${strategy}|${sample}`
   */
  constructor(
    readonly path: string,
    private readonly keyOf: (record: T) => string,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    if (existsSync(path)) this.load();
  }

  private load(): void {
    const bytes = readFileSync(this.path);
    let offset = 0;
    while (offset < bytes.length) {
      const nl = bytes.indexOf(0x0a, offset);
      // Only the unterminated tail can be a torn append: every append ends with its newline.
      const tail = nl < 0;
      const line = bytes.subarray(offset, tail ? bytes.length : nl).toString("utf8");
      if (line.trim() !== "") {
        let record: unknown;
        try {
          record = JSON.parse(line);
        } catch {
          record = undefined;
        }
        // A record is an object; a torn object never parses, a torn number might.
        if (typeof record !== "object" || record === null || Array.isArray(record)) {
          if (!tail) throw new ResultsFileError(this.path, offset, "unreadable JSON line (not a torn final write); refusing to overwrite results");
          truncateSync(this.path, offset);
          return;
        }
        this.done.set(this.keyOf(record as T), record as T);
      }
      if (tail) {
        // A complete record whose newline was cut off: restore it, or the next append would glue on.
        appendFileSync(this.path, "\n");
        return;
      }
      offset = nl + 1;
    }
  }

  has(key: string): boolean {
    return this.done.has(key);
  }

  get(key: string): T | undefined {
    return this.done.get(key);
  }

  get size(): number {
    return this.done.size;
  }

  records(): T[] {
    return [...this.done.values()];
  }

  /** Append one record durably; a record whose key is already stored is ignored. */
  add(record: T): void {
    const key = this.keyOf(record);
    if (this.done.has(key)) return;
    const fd = openSync(this.path, "a");
    try {
      appendFileSync(fd, JSON.stringify(record) + "\n");
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.done.set(key, record);
  }
}
