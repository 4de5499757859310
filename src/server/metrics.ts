// Prometheus metrics of the server, on a registry of its own (several servers in one process, as
// in tests, never share counters).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { GenerationResult } from "../generate/types.ts";
import { choiceReport } from "./responses.ts";
import type { Scheduler } from "./scheduler.ts";

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const TOKEN_LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<"endpoint" | "status">;
  readonly rejected: Counter<"reason">;
  readonly tokens: Counter<"kind">;
  readonly tokensBySource: Counter<"source">;
  readonly tokensAfterAbort: Counter;
  readonly generations: Counter<"finish_reason">;
  readonly requestDuration: Histogram<"endpoint">;
  readonly timeToFirstToken: Histogram<"endpoint">;
  readonly timePerOutputToken: Histogram<"endpoint">;
  readonly acceptanceRate: Histogram;
  readonly queueWait: Histogram;

  constructor(scheduler: Scheduler) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: "cosec_process_" });
    this.requests = new Counter({ name: "cosec_requests_total", help: "HTTP requests by endpoint and status", labelNames: ["endpoint", "status"], registers });
    this.rejected = new Counter({ name: "cosec_rejected_requests_total", help: "requests refused before generating", labelNames: ["reason"], registers });
    this.tokens = new Counter({ name: "cosec_tokens_total", help: "prompt and completion tokens", labelNames: ["kind"], registers });
    this.tokensAfterAbort = new Counter({
      name: "cosec_tokens_after_abort_total",
      help: "completion tokens generated after their request was aborted (client gone, shutdown deadline)",
      registers,
    });
    this.tokensBySource = new Counter({
      name: "cosec_completion_tokens_by_source_total",
      help: "completion tokens by the model they came from (expert = kept expert proposal)",
      labelNames: ["source"],
      registers,
    });
    this.generations = new Counter({ name: "cosec_samples_total", help: "generated samples by finish reason", labelNames: ["finish_reason"], registers });
    const byEndpoint = (name: string, help: string, buckets: number[]) => new Histogram({ name, help, labelNames: ["endpoint"], buckets, registers });
    this.requestDuration = byEndpoint("cosec_request_duration_seconds", "time from request arrival to the last byte", LATENCY_BUCKETS);
    this.timeToFirstToken = byEndpoint("cosec_time_to_first_token_seconds", "time from request arrival to the first generated token", LATENCY_BUCKETS);
    this.timePerOutputToken = byEndpoint("cosec_time_per_output_token_seconds", "mean time between tokens after the first, per request", TOKEN_LATENCY_BUCKETS);
    this.acceptanceRate = new Histogram({
      name: "cosec_acceptance_rate",
      help: "per sample: fraction of tokens kept from the expert's proposals (cosec-plus, expert)",
      buckets: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1],
      registers,
    });
    this.queueWait = new Histogram({ name: "cosec_queue_wait_seconds", help: "time waiting for free sequences", buckets: LATENCY_BUCKETS, registers });
    const gauges: [string, string, () => number][] = [
      ["cosec_queue_depth", "requests waiting for free sequences", () => scheduler.queued],
      ["cosec_running_requests", "requests holding sequences", () => scheduler.active],
      ["cosec_sequences_in_use", "sequence slots in use", () => scheduler.slotsInUse],
    ];
    for (const [name, help, value] of gauges) {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(value());
        },
      });
    }
    new Gauge({ name: "cosec_sequences_total", help: "sequence slots (--parallel)", registers }).set(scheduler.capacity);
  }

  /** Counts a finished generation's tokens, provenance and acceptance. */
  recordResults(results: readonly GenerationResult[], promptTokens: number): void {
    this.tokens.inc({ kind: "prompt" }, promptTokens);
    for (const r of results) {
      this.generations.inc({ finish_reason: r.finishReason });
      this.tokens.inc({ kind: "completion" }, r.tokens.length);
      for (const [source, count] of Object.entries(choiceReport(r).tokens_by_source)) if (count > 0) this.tokensBySource.inc({ source }, count);
      if (r.acceptanceRate !== null) this.acceptanceRate.observe(r.acceptanceRate);
    }
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
