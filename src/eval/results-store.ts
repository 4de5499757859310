// Append-only JSONL results, keyed so that a restarted job skips what is done. A crash can leave a
// truncated last line: it is dropped on load (and the file repaired) rather than failing the run.
import { appendFileSync, existsSync, mkdirSync, readFileSync, truncateSync, openSync, fsyncSync, closeSync } from "node:fs";
import { dirname } from "node:path";

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
    const text = readFileSync(this.path, "utf8");
    let validBytes = 0;
    let offset = 0;
    for (const line of text.split("\n")) {
      const lineBytes = Buffer.byteLength(line, "utf8") + 1;
      if (line.trim() === "") {
        offset += lineBytes;
        continue;
      }
      let record: T;
      try {
        record = JSON.parse(line) as T;
      } catch {
        // Only a torn final write is repairable; anything else is a corrupted file.
        if (offset + lineBytes >= Buffer.byteLength(text, "utf8")) break;
        throw new Error(`${this.path}: unreadable JSON at byte ${offset}; refusing to overwrite results`);
      }
      this.done.set(this.keyOf(record), record);
      offset += lineBytes;
      validBytes = Math.min(offset, Buffer.byteLength(text, "utf8"));
    }
    if (validBytes < Buffer.byteLength(text, "utf8")) {
      truncateSync(this.path, validBytes);
      // A truncated final line without its newline would glue onto the next append.
      if (validBytes > 0 && !text.slice(0, validBytes).endsWith("\n")) appendFileSync(this.path, "\n");
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
