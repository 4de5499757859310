// A model backend without a model: logits are a fixed pseudo-random function of (model, the tokens
// in the cache), so the decoders, strategies and settings run end to end on any machine, no GGUF.
// Rows are views into a per-sequence buffer reused by the next evaluation, as the real backend's.
import type { EvaluationRequest, ModelBackend, ModelSequence, Vocabulary } from "../../src/backend/types.ts";

const V = 24;
const EOS = 0;

function mix(h: number, x: number): number {
  h = Math.imul(h ^ x, 0x9e3779b1);
  return (h ^ (h >>> 15)) >>> 0;
}

/** Logits of one model after `history`: depends on the last three tokens and the length. */
function logitsAfter(salt: number, history: readonly number[], out: Float32Array, like?: number): void {
  let h = mix(like ?? salt, history.length);
  for (const t of history.slice(-3)) h = mix(h, t + 1);
  for (let i = 0; i < V; i++) out[i] = ((mix(h, i) % 10007) / 10007) * 6 - 3;
  out[EOS] -= 4; // samples run a dozen tokens or more before they end
  if (like === undefined) return;
  // A model that resembles another one: its logits plus a little noise of its own.
  let g = mix(salt, history.length);
  for (const t of history.slice(-3)) g = mix(g, t + 1);
  for (let i = 0; i < V; i++) out[i] = 0.6 * out[i] + ((mix(g, i) % 1009) / 1009) * 4 - 2;
}

const vocab: Vocabulary = {
  size: V,
  special: { bos: null, eos: EOS, eot: null, pad: null, fimPrefix: null, fimSuffix: null, fimMiddle: null, fimPad: null, fimRepo: null, fimSeparator: null },
  tokenText: (id) => String.fromCharCode(97 + id),
  tokenBytes: (id) => Uint8Array.of(id === EOS ? 10 : 97 + id),
  isEndOfGeneration: (id) => id === EOS,
};

class FakeSequence implements ModelSequence {
  readonly tokens: number[] = [];
  buffer = new Float32Array(V);
  constructor(
    readonly id: number,
    private readonly owner: FakeBackend,
  ) {}
  get length(): number {
    return this.tokens.length;
  }
  async evaluate(tokens: readonly number[], logitsFor: "last" | "all" | number): Promise<Float32Array[]> {
    return (await this.owner.evaluateBatch([{ sequence: this, tokens, logitsFor }]))[0];
  }
  async truncate(length: number): Promise<void> {
    this.tokens.length = length;
  }
  async dispose(): Promise<void> {
    this.owner.release(this);
  }
}

export class FakeBackend implements ModelBackend {
  readonly vocab = vocab;
  readonly tokenizer = {
    tokenize: (text: string) => Array.from(text, (c) => (c.charCodeAt(0) - 97 + V * 4) % V || 1),
    detokenize: (tokens: readonly number[]) => tokens.map((t) => vocab.tokenText(t)).join(""),
  };
  readonly info;
  private readonly open = new Set<FakeSequence>();
  private nextId = 0;

  /** `like`: the salt of a model this one resembles (an expert distilled from the target). */
  constructor(
    private readonly salt: number,
    private readonly maxSequences = 4,
    private readonly like?: number,
  ) {
    this.info = { path: `fake-${salt}`, architecture: "fake", vocabSize: V, contextSize: 256, trainContextSize: 256, parameterCount: 0, device: "cpu", threads: 1 };
  }

  get freeSequences(): number {
    return this.maxSequences - this.open.size;
  }

  newSequence(): ModelSequence {
    if (this.open.size >= this.maxSequences) throw new Error("no free sequence");
    const s = new FakeSequence(this.nextId++, this);
    this.open.add(s);
    return s;
  }

  release(s: FakeSequence): void {
    this.open.delete(s);
  }

  async evaluateBatch(requests: readonly EvaluationRequest[]): Promise<Float32Array[][]> {
    return requests.map(({ sequence, tokens, logitsFor }) => {
      const s = sequence as FakeSequence;
      const n = logitsFor === "last" ? 1 : logitsFor === "all" ? tokens.length : logitsFor;
      if (s.buffer.length < n * V) s.buffer = new Float32Array(n * V);
      const rows: Float32Array[] = [];
      for (const [i, t] of tokens.entries()) {
        s.tokens.push(t);
        const k = i - (tokens.length - n);
        if (k < 0) continue;
        const row = s.buffer.subarray(k * V, (k + 1) * V);
        logitsAfter(this.salt, s.tokens, row, this.like);
        rows.push(row);
      }
      return rows;
    });
  }

  async dispose(): Promise<void> {}
}

/** A target, an expert that resembles it, and an expert base for proxy. */
export function fakePair(maxSequences = 4): { target: FakeBackend; expert: FakeBackend; expertBase: FakeBackend } {
  return { target: new FakeBackend(1, maxSequences), expert: new FakeBackend(2, maxSequences, 1), expertBase: new FakeBackend(3, maxSequences, 1) };
}
