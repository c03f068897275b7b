/** Polls `probe` until `ok` holds (runs, visibility and outbox delivery are asynchronous); fails with the last value. */
export async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, what = 'condition', timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)?.slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
