// CoSec+ with a remote target (src/backend/remote-target.ts): the local expert drafts k tokens, one
// request scores them all (prompt_logprobs give log p_target of each draft), and the drafts are
// decided in order by the reference rule, keep d when min(1, p_t(d) / p_e(d)) > threshold on the raw
// distributions. At the first rejection a second request draws the token from the target's raw
// distribution on the server; the round ends there. Where this differs from the local rule: that
// fallback draw is the server's sampler (seeded by the position, but not cosec's Gumbel stream), so
// outputs are not those of a local target; p_target comes from the server's kernels; the bonus token
// after a fully kept draft is not taken (the rule lets the expert propose there first); only the
// reference mode exists (warped mode needs the whole target distribution).
import type { ModelBackend } from "../backend/types.ts";
import type { RemoteTarget } from "../backend/remote-target.ts";
import { Caches, emptyProfile, type DecodeTiming } from "./job.ts";
import type { SampleState } from "./sample-state.ts";
import type { DecodingSettings } from "./settings.ts";
import { ExpertProposer } from "./speculative/proposer.ts";
import { logSumExp } from "./warpers.ts";

/** Why a remote target cannot decode with these settings (only CoSec+'s reference rule needs no
 * whole target distribution), or null when it can. */
export function remoteRuleProblem(d: { strategy: { name: string }; mode?: string }): string | null {
  if (d.strategy.name === "cosec-plus" && d.mode === "reference") return null;
  return `a remote target co-decodes with cosec-plus in reference mode only, got ${d.strategy.name}${d.strategy.name === "cosec-plus" ? ` (${d.mode})` : ""}`;
}

export interface RemoteJob {
  /** cosec-plus in reference mode (its propose draws the expert's proposals); draftMax: drafts per round. */
  decoding: DecodingSettings;
  expert: ModelBackend;
  remote: RemoteTarget;
  sample: SampleState;
  prompt: readonly number[];
  signal?: AbortSignal;
}

/** Drafts per round (one scoring request each) when the settings fix none. */
const DEFAULT_DRAFT = 4;

export interface RemoteTiming extends DecodeTiming {
  /** HTTP requests to the remote target. */
  requests: number;
}

export async function decodeRemote(job: RemoteJob): Promise<RemoteTiming> {
  const s = job.sample;
  const { strategy, threshold, draftMax, sampling } = job.decoding;
  const draftLength = draftMax ?? DEFAULT_DRAFT;
  const local = { strategy, models: { expert: job.expert }, samples: [s], prompt: job.prompt, signal: job.signal };
  const caches = await Caches.open(local, ["expert"]);
  const proposer = new ExpertProposer(local, caches, sampling.expert, job.decoding.draftPMin);
  const timing: RemoteTiming = { promptMs: 0, generateMs: 0, rounds: 0, drafted: 0, acceptedDrafts: 0, profile: emptyProfile(), cachedPromptTokens: 0, requests: 0 };
  const t0 = performance.now();
  const requestsBefore = job.remote.requests;
  let pending: readonly number[] = job.prompt;
  try {
    while (!s.done && !job.signal?.aborted) {
      if (!caches.fits(0, pending.length + draftLength)) {
        s.end("length");
        break;
      }
      const [k] = proposer.lengths([0], [pending], Math.max(1, draftLength));
      const drafts = await proposer.draft([0], [{ i: 0, tokens: pending, last: 1 }], [Math.max(1, k)], {}, false);
      const d = drafts.tokens[0];
      // Drafting stops before an end token the expert proposes, or one it is unsure of (draftPMin):
      // that proposal is decided like a draft, but not drafted past.
      const last = drafts.proposals[0][d.length];
      const candidates = last ? [...d, last.token] : d;
      const context = [...job.prompt, ...s.tokens];
      let kept = 0;
      let next: number | null = null;
      if (candidates.length > 0) {
        const pt = await job.remote.score([...context, ...candidates], context.length);
        for (let j = 0; j < candidates.length && !s.done; j++) {
          const row = drafts.rows[0][j];
          const c = candidates[j];
          const pe = Math.exp(row[c] - logSumExp(row));
          const ratio = pe > 0 ? Math.min(1, Math.exp(pt[j]) / pe) : 0;
          if (ratio > threshold) {
            const alive = s.push({ token: c, source: "expert", logprob: drafts.proposals[0][j]?.logprob ?? Math.log(pe) });
            if (j < d.length) kept++;
            else next = c; // the expert has not read it yet
            if (!alive) break;
            continue;
          }
          const drawn = await job.remote.sample([...context, ...d.slice(0, j)], (s.seed * 1_000_003 + s.tokens.length) % 2 ** 31);
          if (s.push({ token: drawn.token, source: "target", logprob: drawn.logprob })) next = drawn.token;
          break;
        }
      }
      timing.rounds++;
      timing.drafted += d.length;
      timing.acceptedDrafts += kept;
      // The expert's cache keeps the kept drafts; its next pass reads the token after them.
      const base = caches.seq("expert", 0).length - d.length;
      await caches.truncate(0, base + kept);
      if (s.done) break;
      pending = next !== null ? [next] : [];
      if (pending.length === 0) {
        // Every draft kept: the last one is in the cache but its logits are needed again.
        await caches.truncate(0, base + kept - 1);
        pending = [d[kept - 1]];
      }
    }
    if (job.signal?.aborted) s.end("aborted");
  } finally {
    await caches.close(false);
  }
  timing.generateMs = performance.now() - t0;
  timing.requests = job.remote.requests - requestsBefore;
  return timing;
}
