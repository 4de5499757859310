// Server-sent events for streamed responses. Headers go out with the first event, so an error
// raised before any token (bad strategy, prompt too long) is still an ordinary 4xx response.
import type { FastifyReply } from "fastify";

export class SseStream {
  private opened = false;

  constructor(private readonly reply: FastifyReply) {}

  get started(): boolean {
    return this.opened;
  }

  /** False once the client has gone (writes would be lost). */
  get writable(): boolean {
    return !this.reply.raw.destroyed && !this.reply.raw.writableEnded;
  }

  private open(): void {
    if (this.opened) return;
    this.opened = true;
    // Headers set through Fastify (CORS, request id) are copied: a hijacked reply skips them.
    const headers: Record<string, string | number | string[]> = {};
    for (const [k, v] of Object.entries(this.reply.getHeaders())) if (v !== undefined) headers[k] = v;
    this.reply.hijack();
    this.reply.raw.writeHead(200, {
      ...headers,
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
  }

  send(data: unknown): void {
    this.open();
    if (this.writable) this.reply.raw.write(`data: ${JSON.stringify(data)}\n\n`);
  }

  /** Ends the stream with OpenAI's terminator. */
  done(): void {
    this.end("data: [DONE]\n\n");
  }

  /** Ends the stream, after `last` (llama.cpp's own endpoints send no terminator). */
  end(last?: string): void {
    this.open();
    if (this.writable) this.reply.raw.end(last);
  }
}
