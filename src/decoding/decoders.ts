// The two schedules of the one decoding loop. Both hold, per sample and model, a KV cache with every
// token but the newest chosen ones ("pending"), and choose each position's token with the same
// `strategy.choose` keyed by the same (seed, sample, position) random numbers:
// - sequential: evaluate pending on each model, choose one token, repeat;
// - speculative: the expert drafts k tokens with its own proposals, the target (and the expert
//   base, for proxy) scores pending + drafts in one pass, positions are decided in order, and the
//   first decision that differs from the draft ends the round (caches roll back to it). A position
//   sees the same logits and random numbers in both schedules, so the outputs are identical.
import type { EvaluationOptions, ModelBackend, ModelSequence } from "../backend/types.ts";
import type { CoreSharing } from "./core-sharing.ts";
import { DraftLengthChooser, SpeculationCosts } from "./draft-length.ts";
import { positionRng } from "./rng.ts";
import type { SampleState } from "./sample-state.ts";
import { expertProposal } from "./strategies/proposal.ts";
import type { Choice, ModelLogits, ModelRole, SamplingSettings, Strategy } from "./types.ts";

export interface DecodeJob {
  strategy: Strategy;
  models: Partial<Record<ModelRole, ModelBackend>>;
  samples: SampleState[];
  prompt: readonly number[];
  signal?: AbortSignal;
}

export interface DecodeTiming {
  promptMs: number;
  generateMs: number;
  /** Speculative rounds and drafted/accepted draft tokens (zero for sequential). */
  rounds: number;
  drafted: number;
  acceptedDrafts: number;
}

export interface SpeculativeSettings {
  /** Fixed draft length, or chosen each round from measured costs and acceptance when undefined. */
  draftMax?: number;
  expertSampling: SamplingSettings;
  /** The pair's measured costs, shared across generations (a fresh estimate when absent). */
  costs?: SpeculationCosts;
  /** A lone verifier runs while the expert waits for its verdict, and may borrow the expert's cores. */
  cores?: CoreSharing;
}

class Caches {
  readonly seqs = new Map<ModelRole, ModelSequence[]>();

  constructor(
    readonly job: DecodeJob,
    readonly roles: readonly ModelRole[],
  ) {
    for (const role of roles) {
      const backend = job.models[role];
      if (!backend) throw new Error(`strategy ${job.strategy.name} needs the ${role} model, which is not loaded`);
      const list: ModelSequence[] = [];
      try {
        for (let i = 0; i < job.samples.length; i++) list.push(backend.newSequence());
      } catch (err) {
        for (const s of list) void s.dispose();
        void this.dispose();
        throw err;
      }
      this.seqs.set(role, list);
    }
  }

  seq(role: ModelRole, i: number): ModelSequence {
    return this.seqs.get(role)![i];
  }

  /** Evaluates items (sample index, tokens, how many trailing logits) on one model in one batch. */
  async evaluate(
    role: ModelRole,
    items: { i: number; tokens: readonly number[]; last: number }[],
    options?: EvaluationOptions,
  ): Promise<Float32Array[][]> {
    if (items.length === 0) return [];
    return this.job.models[role]!.evaluateBatch(
      items.map((it) => ({ sequence: this.seq(role, it.i), tokens: it.tokens, logitsFor: it.last })),
      options,
    );
  }

  /** True when `extra` more tokens still fit every cache of sample i. */
  fits(i: number, extra: number): boolean {
    for (const role of this.roles) {
      if (this.seq(role, i).length + extra > this.job.models[role]!.info.contextSize) return false;
    }
    return true;
  }

  async truncate(i: number, length: number): Promise<void> {
    for (const role of this.roles) {
      const s = this.seq(role, i);
      if (s.length > length) await s.truncate(length);
    }
  }

  async dispose(): Promise<void> {
    const all = [...this.seqs.values()].flat();
    this.seqs.clear();
    await Promise.all(all.map((s) => s.dispose()));
  }
}

function aborted(job: DecodeJob): boolean {
  if (!job.signal?.aborted) return false;
  for (const s of job.samples) if (!s.done) s.end("aborted");
  return true;
}

/** Samples still generating whose pending tokens fit their caches (the others end on "length"). */
function activeSamples(job: DecodeJob, caches: Caches, pending: readonly (readonly number[])[]): number[] {
  const active: number[] = [];
  for (let i = 0; i < job.samples.length; i++) {
    if (job.samples[i].done) continue;
    if (!caches.fits(i, pending[i].length)) job.samples[i].end("length");
    else active.push(i);
  }
  return active;
}

function decide(job: DecodeJob, i: number, logits: ModelLogits): Choice {
  const s = job.samples[i];
  return job.strategy.choose(logits, positionRng(s.seed, s.sample, s.position));
}

/** Reusable copies of logits rows, indexed by (sample slot, draft depth): no allocation per token. */
class RowPool {
  private readonly pool: Float32Array[][] = [];

  take(slot: number, depth: number, src: Float32Array): Float32Array {
    const list = (this.pool[slot] ??= []);
    let row = list[depth];
    if (!row || row.length !== src.length) row = list[depth] = new Float32Array(src.length);
    row.set(src);
    return row;
  }
}

export async function decodeSequential(job: DecodeJob, cores?: CoreSharing): Promise<DecodeTiming> {
  const roles = job.strategy.models;
  const stepKind = `step:${roles.join("+")}`;
  const caches = new Caches(job, roles);
  const pending: (readonly number[])[] = job.samples.map(() => job.prompt);
  const t0 = performance.now();
  let promptMs = -1;
  try {
    for (;;) {
      const active = aborted(job) ? [] : activeSamples(job, caches, pending);
      if (active.length === 0) break;
      const items = active.map((i) => ({ i, tokens: pending[i], last: 1 }));
      const perRole: Float32Array[][][] = [];
      const threads = cores?.lend(stepKind);
      // One generation alone, running one model or one model after the other: this thread has
      // nothing else to do during a pass, so short passes may run on it.
      const inline = cores?.alone === true && (threads !== undefined || roles.length === 1);
      const stepStart = performance.now();
      if (threads !== undefined) {
        // One model after the other, the target on the cores of both.
        for (const role of roles) perRole.push(await caches.evaluate(role, items, { threads, inline }));
      } else {
        // Side by side: each llama.cpp context decodes on its own worker thread.
        perRole.push(...(await Promise.all(roles.map((role) => caches.evaluate(role, items, { inline })))));
      }
      // Prompt steps cost more per sample than generation steps: not comparable, not observed.
      if (promptMs >= 0) cores?.observe(stepKind, threads !== undefined, (performance.now() - stepStart) / active.length);
      const logits = new Map<ModelRole, Float32Array[][]>(roles.map((role, r) => [role, perRole[r]]));
      if (promptMs < 0) promptMs = performance.now() - t0;
      active.forEach((i, k) => {
        const at: ModelLogits = {};
        for (const role of roles) at[role] = logits.get(role)![k][0];
        const choice = decide(job, i, at);
        if (job.samples[i].push(choice)) pending[i] = [choice.token];
      });
    }
  } finally {
    await caches.dispose();
  }
  const total = performance.now() - t0;
  return { promptMs: Math.max(promptMs, 0), generateMs: total - Math.max(promptMs, 0), rounds: 0, drafted: 0, acceptedDrafts: 0 };
}

/**
 * The value of the work `start` begins and the ms until it settled, counted from before it begins:
 * a pass short enough to run on this thread is done by the time its promise exists.
 */
async function timed<T>(start: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await start();
  return { value, ms: performance.now() - t0 };
}

export async function decodeSpeculative(job: DecodeJob, settings: SpeculativeSettings): Promise<DecodeTiming> {
  // The expert drafts; the models the rule needs besides it are verified in one pass each.
  const roles: ModelRole[] = [...new Set<ModelRole>(["expert", ...job.strategy.models])];
  const verifiers = roles.filter((r) => r !== "expert");
  const caches = new Caches(job, roles);
  const pending: (readonly number[])[] = job.samples.map(() => job.prompt);
  const costs = settings.costs ?? new SpeculationCosts();
  const chooser = new DraftLengthChooser(costs, settings.draftMax);
  const rows = new RowPool();
  const propose = job.strategy.propose?.bind(job.strategy);
  // Lending is judged on whole rounds: a lent verification also changes the drafting around it.
  const roundKind = `round:${verifiers.join("+")}`;
  const timing: DecodeTiming = { promptMs: -1, generateMs: 0, rounds: 0, drafted: 0, acceptedDrafts: 0 };
  const t0 = performance.now();
  try {
    for (;;) {
      const active = aborted(job) ? [] : activeSamples(job, caches, pending);
      if (active.length === 0) break;
      const roundStart = performance.now();
      const tokensBefore = active.reduce((n, i) => n + job.samples[i].tokens.length, 0);
      // The expert drafts alone; a lone verifier may then take its cores too (verifiers that run
      // together keep their own). The draft length follows the verification's costs on those threads.
      const verifyThreads = verifiers.length === 1 ? settings.cores?.lend(roundKind) : undefined;
      const k = chooser.next(verifyThreads ?? 0);

      // Draft: expert logits E_0..E_k and proposals d_0..d_{k-1}, one expert pass per position.
      // Drafts never run past a sample's remaining token budget or its context.
      const kFor = active.map((i) => {
        const s = job.samples[i];
        let room = k;
        while (room > 0 && !caches.fits(i, pending[i].length + room)) room--;
        return Math.min(room, Math.max(0, s.remaining - 1));
      });
      const expertRows: Float32Array[][] = active.map(() => []);
      const drafts: number[][] = active.map(() => []);
      let drafting = active.map((_, n) => n); // indices into `active`
      const promptRound = active.some((i) => pending[i].length > 1);
      // A round without drafts on the models' own threads is a sequential step: expert and
      // verifiers evaluate the pending tokens side by side (verifiers first, since a small expert's
      // pass may run inline on this thread).
      const sideBySide = verifyThreads === undefined && kFor.every((k) => k === 0);
      const pendingItems = active.map((i) => ({ i, tokens: pending[i], last: 1 }));
      const sideVerify = sideBySide ? timed(() => Promise.all(verifiers.map((role) => caches.evaluate(role, pendingItems)))) : null;
      sideVerify?.catch(() => undefined); // awaited below; handled here too, should the expert's pass throw first
      const firstStep = performance.now();
      // A generation alone waits for each of the passes below: short ones may run on this thread.
      const alone = settings.cores?.alone === true;
      let step = await caches.evaluate("expert", pendingItems, { inline: alone && !sideBySide });
      // Steps of one token per sample measure the draft cost (the first round's carries the prompt).
      let draftMs = 0;
      if (!promptRound && !sideBySide) costs.draftStepMs.add((draftMs = performance.now() - firstStep));
      for (let depth = 0; ; depth++) {
        const still: number[] = [];
        drafting.forEach((n, m) => {
          // The next expert pass overwrites the sequence's logits buffer: keep a copy.
          const row = rows.take(n, depth, step[m][0]);
          expertRows[n].push(row);
          if (depth >= kFor[n]) return;
          const s = job.samples[active[n]];
          const rng = positionRng(s.seed, s.sample, s.position + depth);
          // The strategy's own proposal; one without (the target, weighted, a caller's rule) is
          // drafted for by the expert's sampling, which only changes how many drafts are kept.
          const d = propose ? propose(row, rng) : expertProposal(row, settings.expertSampling, rng).token;
          if (s.endsOn(d)) return; // nothing to draft past the end
          drafts[n].push(d);
          still.push(n);
        });
        drafting = still;
        if (drafting.length === 0) break;
        const stepStart = performance.now();
        step = await caches.evaluate(
          "expert",
          drafting.map((n) => ({ i: active[n], tokens: [drafts[n][depth]], last: 1 })),
          { inline: alone },
        );
        const ms = performance.now() - stepStart;
        costs.draftStepMs.add(ms);
        draftMs += ms;
      }
      if (timing.promptMs < 0) timing.promptMs = performance.now() - t0;

      // Verify: each other model scores pending + drafts at once (k+1 distributions).
      const { value: perVerifier, ms: verifyMs } = await (sideVerify ??
        timed(() =>
          Promise.all(
            verifiers.map((role) =>
              caches.evaluate(
                role,
                active.map((i, n) => ({ i, tokens: [...pending[i], ...drafts[n]], last: drafts[n].length + 1 })),
                { threads: verifyThreads, inline: alone && verifiers.length === 1 }, // several: side by side
              ),
            ),
          ),
        ));
      const maxDrafts = Math.max(...drafts.map((d) => d.length));
      // A pass beside the expert's is not the cost of one alone.
      if (!sideBySide && drafts.every((d) => d.length === maxDrafts)) {
        const perSample = Math.max(...active.map((i) => pending[i].length)) + maxDrafts;
        costs.observeVerify(perSample, verifyMs, verifyThreads ?? 0);
      }
      const verified = new Map<ModelRole, Float32Array[][]>(verifiers.map((role, r) => [role, perVerifier[r]]));

      // Decide in order; the first decision that differs from the draft ends the round.
      let roundAccepted = 0;
      let roundDrafted = 0;
      let roundRejections = 0;
      for (let n = 0; n < active.length; n++) {
        const i = active[n];
        const s = job.samples[i];
        const base = caches.seq("expert", i).length - drafts[n].length; // cache length before the drafts
        let kept = 0;
        let next: number | null = null;
        for (let j = 0; j <= drafts[n].length; j++) {
          const at: ModelLogits = { expert: expertRows[n][j] };
          for (const role of verifiers) at[role] = verified.get(role)![n][j];
          const choice = decide(job, i, at);
          const alive = s.push(choice);
          if (!alive) break;
          if (j < drafts[n].length && choice.token === drafts[n][j]) {
            kept++;
            continue;
          }
          next = choice.token;
          break;
        }
        roundDrafted += drafts[n].length;
        roundAccepted += kept;
        if (kept < drafts[n].length && next !== null) roundRejections++;
        await caches.truncate(i, base + kept);
        if (next !== null) pending[i] = [next];
        else if (!s.done) throw new Error("speculative round ended without a token");
      }
      timing.rounds++;
      timing.drafted += roundDrafted;
      timing.acceptedDrafts += roundAccepted;
      // Not in a round whose first expert pass read a prompt: that pass is neither a draft step nor overhead.
      if (!promptRound) {
        const roundMs = performance.now() - roundStart;
        if (!sideBySide) costs.roundOverheadMs.add(Math.max(0, roundMs - draftMs - verifyMs));
        const produced = active.reduce((n, i) => n + job.samples[i].tokens.length, 0) - tokensBefore;
        if (produced > 0 && verifiers.length === 1) settings.cores?.observe(roundKind, verifyThreads !== undefined, roundMs / produced);
      }
      chooser.observe({ drafted: roundDrafted, accepted: roundAccepted, rejections: roundRejections });
    }
  } finally {
    await caches.dispose();
  }
  timing.promptMs = Math.max(timing.promptMs, 0);
  timing.generateMs = performance.now() - t0 - timing.promptMs;
  return timing;
}
