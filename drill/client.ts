/**
 * The drill's HTTP client: what a careful chat backend does. Every answer is tallied by kind; a
 * retryable answer (503, a refused or cut connection, 429) is repeated with the same body and
 * Idempotency-Key until it lands or the patience runs out.
 */
export interface Tally {
  ok: number;
  /** 4xx the caller listed as possible for that call (a close racing a timer, a busy transfer target…). */
  expected4xx: number;
  retryable503: number;
  transportErrors: number;
  rateLimited: number;
  /** Anything else: a 5xx other than 503, an unlisted 4xx. Must stay empty. */
  unexpected: { method: string; path: string; status: number; body: string }[];
}

export const newTally = (): Tally => ({ ok: 0, expected4xx: 0, retryable503: 0, transportErrors: 0, rateLimited: 0, unexpected: [] });

export interface CallOptions {
  key: string;
  body?: unknown;
  idempotencyKey?: string;
  /** 4xx statuses this call may answer without anything being wrong. */
  expect?: number[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Answer = { status: number; body: any };

export class DrillClient {
  constructor(
    readonly baseUrl: string,
    readonly tally: Tally,
    /** How long one call keeps retrying through an outage. */
    private readonly patienceMs = 180_000,
  ) {}

  async call(method: string, path: string, opts: CallOptions): Promise<Answer> {
    const deadline = Date.now() + this.patienceMs;
    for (let attempt = 0; ; attempt += 1) {
      let wait = Math.min(2_000, 250 * 2 ** attempt);
      try {
        const res = await fetch(`${this.baseUrl}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${opts.key}`,
            ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...(opts.idempotencyKey ? { 'idempotency-key': opts.idempotencyKey } : {}),
          },
          body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
          signal: AbortSignal.timeout(60_000),
        });
        const text = await res.text();
        const body = text ? JSON.parse(text) : null;
        if (res.status < 300) {
          this.tally.ok += 1;
          return { status: res.status, body };
        }
        if (res.status === 503) {
          this.tally.retryable503 += 1;
          wait = Math.max(wait, 1_000);
        } else if (res.status === 429 || (res.status === 409 && body?.error?.code === 'idempotency_key_in_progress')) {
          this.tally.rateLimited += res.status === 429 ? 1 : 0;
          wait = 1_000;
        } else if (res.status < 500 && opts.expect?.includes(res.status)) {
          this.tally.expected4xx += 1;
          return { status: res.status, body };
        } else {
          this.tally.unexpected.push({ method, path, status: res.status, body: text.slice(0, 300) });
          return { status: res.status, body };
        }
      } catch {
        this.tally.transportErrors += 1;
      }
      if (Date.now() + wait > deadline) throw new Error(`${method} ${path}: still failing after ${this.patienceMs / 1000} s`);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
