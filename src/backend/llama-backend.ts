// ModelBackend over llama.cpp: node-llama-cpp selects the binary variant and reads GGUF metadata,
// cosec's addon evaluates and returns raw logits as typed arrays.
import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { readGgufFileInfo } from "node-llama-cpp";
import { ContextOverflowError, CosecError, ModelLoadError } from "../errors.ts";
import { getRuntime, type AddonContext, type AddonModel } from "./native-addon.ts";
import { FIM_ORDERS, type FimOrder } from "./types.ts";
import type {
  EvaluationOptions,
  EvaluationRequest,
  LoadOptions,
  LogitsFor,
  ModelBackend,
  ModelInfo,
  ModelSequence,
  SpecialTokens,
  Tokenizer,
  Vocabulary,
} from "./types.ts";

const BATCH_SIZE = 512;
/**
 * One-token passes measured shorter than this run on the JS thread: handing a pass to a worker
 * thread and back costs ~0.15 ms here, a third of a small expert's step.
 */
const INLINE_PASS_MS = 1;
/**
 * The same for callers with nothing to run meanwhile (`EvaluationOptions.inline`), for passes
 * estimated shorter than this (any number of tokens): a 25M target stepping one model after the
 * other with the tiny expert gained 0.3-0.5 ms per token (of 4-5) on 2 cores, where each hand-over
 * wakes a sleeping thread.
 */
const INLINE_IDLE_PASS_MS = 20;
/**
 * Inline passes hold the JS thread: after this long without a turn of the event loop (server I/O,
 * timers, analyses of the evaluation), one is given before the next inline pass.
 */
const INLINE_SLICE_MS = 5;
/** When the event loop last had a turn that this module knows of (an awaited worker pass, a yield). */
let lastLoopTurn = 0;

function loopTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function rowsWanted(logitsFor: LogitsFor, n: number): number {
  if (logitsFor === "all") return n;
  if (logitsFor === "last") return 1;
  if (!Number.isInteger(logitsFor) || logitsFor < 1 || logitsFor > n) {
    throw new CosecError(`logits requested for the last ${logitsFor} of ${n} new tokens`);
  }
  return logitsFor;
}

/**
 * One core is left free: llama.cpp's threads spin-wait, and a token costs ~70× more when they share
 * cores with anything else (measured on a 2-core machine). Override with `threads`.
 */
export function defaultThreads(physicalCores: number): number {
  return Math.max(1, physicalCores - 1);
}

function checkGgufFile(path: string, what: string): void {
  if (!existsSync(path)) throw new ModelLoadError(`${what} not found: ${path}`);
  const size = statSync(path).size;
  const fd = openSync(path, "r");
  const magic = Buffer.alloc(4);
  try {
    readSync(fd, magic, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  if (size < 4 || magic.toString("latin1") !== "GGUF") {
    throw new ModelLoadError(`${what} is not a GGUF file (bad magic bytes): ${path}`);
  }
}

/** Reads the header and checks that every tensor's data lies inside the file (catches truncation);
 * returns the header's metadata. */
async function checkGgufIntegrity(path: string, what: string): Promise<Record<string, unknown>> {
  let info;
  try {
    info = await readGgufFileInfo(path, { logWarnings: false });
  } catch (err) {
    throw new ModelLoadError(`${what} has an unreadable GGUF header (truncated or corrupt?): ${path}: ${(err as Error).message}`);
  }
  const size = statSync(path).size;
  for (const t of info.tensorInfo ?? []) {
    if (Number(t.fileOffset) > size) {
      throw new ModelLoadError(`${what} is truncated: tensor ${t.name} starts past the end of the file (${size} bytes): ${path}`);
    }
  }
  return info.metadata as Record<string, unknown>;
}

/** The FIM layout the model was trained with, where its GGUF says (`cosec.fim.order`, written by
 * the trainer's export); llama.cpp has no such key, so other models say nothing. */
export function fimOrderOf(metadata: Record<string, unknown>, path: string): FimOrder | undefined {
  const order = ((metadata.cosec as { fim?: { order?: unknown } } | undefined)?.fim)?.order;
  if (order === undefined) return undefined;
  if (!FIM_ORDERS.includes(order as FimOrder)) throw new ModelLoadError(`model file has cosec.fim.order ${JSON.stringify(order)}, expected one of ${FIM_ORDERS.join(", ")}: ${path}`);
  return order as FimOrder;
}

class LlamaVocabulary implements Vocabulary {
  private readonly bytesCache: (Uint8Array | undefined)[];
  private readonly textCache: (string | undefined)[];
  private readonly eog: Int8Array;

  constructor(
    private readonly model: AddonModel,
    readonly size: number,
    readonly special: SpecialTokens,
  ) {
    this.bytesCache = new Array(size);
    this.textCache = new Array(size);
    this.eog = new Int8Array(size).fill(-1);
  }

  private check(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.size) throw new CosecError(`token id ${id} is outside the vocabulary (size ${this.size})`);
  }

  tokenText(id: number): string {
    this.check(id);
    return (this.textCache[id] ??= this.model.tokenText(id).toString("utf8"));
  }

  tokenBytes(id: number): Uint8Array {
    this.check(id);
    return (this.bytesCache[id] ??= new Uint8Array(this.model.tokenBytes(id)));
  }

  isEndOfGeneration(id: number): boolean {
    this.check(id);
    if (this.eog[id] === -1) this.eog[id] = this.model.isEog(id) || this.isFimMarker(id) ? 1 : 0;
    return this.eog[id] === 1;
  }

  /**
   * llama.cpp ends generation on <|fim_pad|>, <|repo_name|> and <|file_sep|>, not on the prefix,
   * suffix and middle markers. Those are never text either: a model that writes one (a small FIM-
   * trained one does, where a document would end: an FIM example's suffix runs to its document's
   * end and is followed by <|fim_middle|>) has ended what it was writing, in a plain completion
   * and in a fill alike.
   */
  private isFimMarker(id: number): boolean {
    const s = this.special;
    return id === s.fimPrefix || id === s.fimSuffix || id === s.fimMiddle;
  }
}

class LlamaSequence implements ModelSequence {
  readonly tokensInCache: number[] = [];
  /** Logits rows of the last evaluation; views handed out point into it. */
  buffer = new Float32Array(0);
  disposed = false;

  constructor(
    readonly id: number,
    private readonly owner: LlamaBackend,
  ) {}

  get tokens(): readonly number[] {
    return this.tokensInCache;
  }

  get length(): number {
    return this.tokensInCache.length;
  }

  async evaluate(tokens: readonly number[], logitsFor: LogitsFor): Promise<Float32Array[]> {
    const [out] = await this.owner.evaluateBatch([{ sequence: this, tokens, logitsFor }]);
    return out;
  }

  truncate(length: number): Promise<void> {
    return this.owner.truncate(this, length);
  }

  dispose(): Promise<void> {
    return this.owner.release(this);
  }
}

interface Settle {
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}
type EvalRequest = { kind: "eval"; requests: readonly EvaluationRequest[] } & EvaluationOptions;
type EvalOp = EvalRequest & Settle;
type WorkOp = { kind: "work"; work: () => unknown } & Settle;
type QueuedOp = EvalOp | WorkOp;

export class LlamaBackend implements ModelBackend {
  private readonly free: number[];
  private readonly ops: QueuedOp[] = [];
  private pumping = false;
  private scratch = new Float32Array(0);
  /** Moving average of one-token-per-sequence passes (ms), which decides inline decoding. */
  private stepMs: number | undefined;

  private constructor(
    readonly info: ModelInfo,
    readonly vocab: LlamaVocabulary,
    readonly tokenizer: Tokenizer,
    private readonly model: AddonModel,
    private readonly context: AddonContext,
    private readonly perSequenceContext: number,
    maxSequences: number,
  ) {
    this.free = Array.from({ length: maxSequences }, (_, i) => maxSequences - 1 - i);
  }

  static async load(options: LoadOptions): Promise<LlamaBackend> {
    checkGgufFile(options.path, "model file");
    const metadata = await checkGgufIntegrity(options.path, "model file");
    const fimOrder = fimOrderOf(metadata, options.path);
    if (options.lora) {
      checkGgufFile(options.lora.path, "LoRA adapter file");
      await checkGgufIntegrity(options.lora.path, "LoRA adapter file");
    }
    const rt = await getRuntime(options.gpu ?? "auto");
    const gpuLayers = rt.device === "cpu" ? 0 : (options.gpuLayers ?? -1);
    let model: AddonModel;
    try {
      model = new rt.addon.Model(options.path, gpuLayers);
    } catch (err) {
      throw new ModelLoadError(`${(err as Error).message} (truncated, corrupt, or an unsupported architecture?)`);
    }
    const raw = model.info();
    const maxSequences = Math.max(1, options.maxSequences ?? 1);
    const perSequence = options.contextSize ?? Math.min(raw.trainContextSize || 4096, 4096);
    const threads = Math.max(1, options.threads ?? defaultThreads(rt.mathCores));
    let context: AddonContext;
    try {
      context = new rt.addon.Context(model, {
        contextSize: perSequence * maxSequences,
        sequences: maxSequences,
        batchSize: BATCH_SIZE,
        threads,
        maxThreads: options.maxThreads,
        lora: options.lora?.path,
        loraScale: options.lora?.scale ?? 1,
        kvF32: options.kvCache === "f32",
        flashAttention: options.flashAttention ?? false,
      });
    } catch (err) {
      model.dispose();
      throw new ModelLoadError((err as Error).message);
    }
    const id = (t: number) => (t >= 0 ? t : null);
    const special: SpecialTokens = {
      bos: id(raw.bos),
      eos: id(raw.eos),
      eot: id(raw.eot),
      pad: id(raw.pad),
      fimPrefix: id(raw.fimPre),
      fimSuffix: id(raw.fimSuf),
      fimMiddle: id(raw.fimMid),
      fimPad: id(raw.fimPad),
      fimRepo: id(raw.fimRep),
      fimSeparator: id(raw.fimSep),
    };
    const vocab = new LlamaVocabulary(model, raw.vocabSize, special);
    const decoder = new TextDecoder("utf-8");
    const tokenizer: Tokenizer = {
      tokenize: (text, opts) => Array.from(model.tokenize(text, opts?.addBos ?? raw.addBos, opts?.parseSpecial ?? false)),
      detokenize: (tokens) => {
        const parts = tokens.map((t) => vocab.tokenBytes(t));
        const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        let o = 0;
        for (const p of parts) {
          all.set(p, o);
          o += p.length;
        }
        return decoder.decode(all);
      },
    };
    const info: ModelInfo = {
      path: options.path,
      architecture: raw.architecture,
      vocabSize: raw.vocabSize,
      contextSize: perSequence,
      trainContextSize: raw.trainContextSize,
      parameterCount: raw.parameterCount,
      device: rt.device,
      threads,
      ...(fimOrder ? { fimOrder } : {}),
      ...(options.lora ? { lora: { path: options.lora.path, scale: options.lora.scale ?? 1 } } : {}),
    };
    return new LlamaBackend(info, vocab, tokenizer, model, context, perSequence, maxSequences);
  }

  get freeSequences(): number {
    return this.free.length;
  }

  newSequence(): ModelSequence {
    const id = this.free.pop();
    if (id === undefined) throw new CosecError(`all sequence slots of ${this.info.path} are in use`);
    return new LlamaSequence(id, this);
  }

  /**
   * All work on the one llama.cpp context goes through this queue, in order. Evaluations queued
   * while a decode runs (other requests, other samples) are merged into one decode: concurrent
   * callers share forward passes without knowing of each other. Other operations (rollback,
   * release) are barriers between merged groups.
   */
  private enqueue<T>(op: EvalRequest | { kind: "work"; work: () => T }): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.ops.push({ ...op, resolve: resolve as (v: unknown) => void, reject } as QueuedOp);
      if (!this.pumping) void this.pump();
    });
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.ops.length > 0) {
        const head = this.ops[0];
        if (head.kind === "work") {
          this.ops.shift();
          try {
            head.resolve(head.work());
          } catch (err) {
            head.reject(err);
          }
          continue;
        }
        // Merge consecutive evaluations; a sequence appears at most once per decode.
        const group: EvalOp[] = [];
        const used = new Set<number>();
        while (this.ops.length > 0 && this.ops[0].kind === "eval") {
          const op = this.ops[0] as EvalOp;
          if (op.requests.some((r) => used.has(r.sequence.id))) break;
          this.ops.shift();
          const problem = this.validate(op.requests);
          if (problem) {
            op.reject(problem);
            continue;
          }
          for (const r of op.requests) used.add(r.sequence.id);
          group.push(op);
        }
        if (group.length === 0) continue;
        try {
          // A merged decode runs with the most threads any of its callers asked for, and inline
          // only when all of them allow it.
          const threads = Math.max(0, ...group.map((op) => op.threads ?? 0));
          const inline = group.every((op) => op.inline === true);
          const offThread = group.some((op) => op.offThread === true);
          const all = await this.decode(group.flatMap((op) => op.requests), threads, inline, offThread);
          let at = 0;
          for (const op of group) {
            op.resolve(all.slice(at, at + op.requests.length));
            at += op.requests.length;
          }
        } catch (err) {
          for (const op of group) op.reject(err);
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private validate(requests: readonly EvaluationRequest[]): Error | null {
    const seen = new Set<number>();
    for (const r of requests) {
      const s = r.sequence as LlamaSequence;
      if (s.disposed) return new CosecError("evaluate on a disposed sequence");
      if (seen.has(s.id)) return new CosecError("a sequence appears twice in one evaluation");
      seen.add(s.id);
      if (r.tokens.length === 0) return new CosecError("evaluate needs at least one token");
      if (s.length + r.tokens.length > this.perSequenceContext) {
        return new ContextOverflowError(
          `${s.length + r.tokens.length} tokens do not fit the context of ${this.perSequenceContext} tokens (${this.info.path}); ` +
            `shorten the prompt, lower max tokens, or raise --context-size`,
        );
      }
      try {
        rowsWanted(r.logitsFor, r.tokens.length);
      } catch (err) {
        return err as Error;
      }
    }
    return null;
  }

  evaluateBatch(requests: readonly EvaluationRequest[], options: EvaluationOptions = {}): Promise<Float32Array[][]> {
    return this.enqueue({ kind: "eval", requests, ...options });
  }

  /** One llama_decode over validated requests; rows are copied into each sequence's own buffer. */
  private async decode(requests: readonly EvaluationRequest[], threads: number, callerIdle: boolean, offThread: boolean): Promise<Float32Array[][]> {
    const seqs = requests.map((r) => r.sequence as LlamaSequence);
    let n = 0;
    let rows = 0;
    for (const r of requests) {
      n += r.tokens.length;
      rows += rowsWanted(r.logitsFor, r.tokens.length);
    }
    const V = this.info.vocabSize;
    const tokens = new Int32Array(n);
    const seqIds = new Int32Array(n);
    const positions = new Int32Array(n);
    const want = new Uint8Array(n);
    let k = 0;
    for (let i = 0; i < requests.length; i++) {
      const r = requests[i];
      const s = seqs[i];
      const firstWanted = r.tokens.length - rowsWanted(r.logitsFor, r.tokens.length);
      for (let j = 0; j < r.tokens.length; j++, k++) {
        tokens[k] = r.tokens[j];
        seqIds[k] = s.id;
        positions[k] = s.length + j;
        want[k] = j >= firstWanted ? 1 : 0;
      }
    }
    if (this.scratch.length < rows * V) this.scratch = new Float32Array(rows * V);
    const oneTokenEach = n === requests.length;
    // A pass of several tokens per sequence, estimated as that many one-token passes (measured on
    // this CPU for a 25M F32 target: 2 tokens 2x one, 8 tokens 3.5x).
    const estimateMs = this.stepMs === undefined ? Infinity : this.stepMs * (n - requests.length + 1);
    const inline = !offThread && (callerIdle ? estimateMs < INLINE_IDLE_PASS_MS : oneTokenEach && estimateMs < INLINE_PASS_MS);
    if (inline && performance.now() - lastLoopTurn > INLINE_SLICE_MS) {
      await loopTurn();
      lastLoopTurn = performance.now();
    }
    const t0 = performance.now();
    if (inline) {
      this.context.decodeSync(tokens, seqIds, positions, want, this.scratch, threads);
    } else {
      await this.context.decode(tokens, seqIds, positions, want, this.scratch, threads);
      lastLoopTurn = performance.now();
    }
    if (oneTokenEach) {
      const ms = performance.now() - t0;
      this.stepMs = this.stepMs === undefined ? ms : this.stepMs + 0.2 * (ms - this.stepMs);
    }
    // Views stay valid until the sequence's next evaluation.
    const results: Float32Array[][] = [];
    let row = 0;
    for (let i = 0; i < requests.length; i++) {
      const r = requests[i];
      const s = seqs[i];
      const count = rowsWanted(r.logitsFor, r.tokens.length);
      if (s.buffer.length < count * V) s.buffer = new Float32Array(Math.max(count, 4) * V);
      s.buffer.set(this.scratch.subarray(row * V, (row + count) * V));
      row += count;
      results.push(Array.from({ length: count }, (_, j) => s.buffer.subarray(j * V, (j + 1) * V)));
      for (const t of r.tokens) s.tokensInCache.push(t);
    }
    return results;
  }

  truncate(seq: LlamaSequence, length: number): Promise<void> {
    return this.enqueue({
      kind: "work",
      work: () => {
        if (length < 0 || length > seq.length) throw new CosecError(`cannot truncate a sequence of ${seq.length} tokens to ${length}`);
        if (length === seq.length) return;
        if (!this.context.seqRemove(seq.id, length)) throw new CosecError("llama.cpp refused to roll back the KV cache");
        seq.tokensInCache.length = length;
      },
    });
  }

  release(seq: LlamaSequence): Promise<void> {
    if (seq.disposed) return Promise.resolve();
    seq.disposed = true;
    // Clear the slot's cache before reuse; queued so it never races a running decode.
    return this.enqueue({
      kind: "work",
      work: () => {
        this.context.seqRemove(seq.id, 0);
        this.free.push(seq.id);
      },
    });
  }

  async dispose(): Promise<void> {
    await this.enqueue({
      kind: "work",
      work: () => {
        this.context.dispose();
        this.model.dispose();
      },
    });
  }
}
