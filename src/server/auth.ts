// Bearer-token check. Keys are compared as SHA-256 digests with timingSafeEqual (equal lengths, no
// early exit over the key list), so response time reveals neither a key's length nor its prefix.
import { createHash, timingSafeEqual } from "node:crypto";

function digest(s: string): Buffer {
  return createHash("sha256").update(s, "utf8").digest();
}

/** Keys from `--api-key` flags plus COSEC_API_KEYS (comma- or whitespace-separated). */
export function collectApiKeys(flags: readonly string[], env: string | undefined): string[] {
  const fromEnv = (env ?? "").split(/[\s,]+/).filter(Boolean);
  return [...new Set([...flags, ...fromEnv].map((k) => k.trim()).filter(Boolean))];
}

export class ApiKeyChecker {
  private readonly digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.digests = keys.map(digest);
  }

  get enabled(): boolean {
    return this.digests.length > 0;
  }

  /** The token of an `Authorization: Bearer <token>` header, or null. */
  static bearer(header: string | undefined): string | null {
    if (!header) return null;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return m ? m[1] : null;
  }

  accepts(token: string | null): boolean {
    if (!this.enabled) return true;
    if (token === null) return false;
    const d = digest(token);
    let ok = false;
    for (const k of this.digests) ok = timingSafeEqual(d, k) || ok;
    return ok;
  }
}
