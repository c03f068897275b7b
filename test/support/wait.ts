/** How long a test waits for a condition (`until`, `expect.poll`, a page's locators) before it fails. */
export const CONDITION_TIMEOUT_MS = 20_000;

/** Polls `probe` until `ok` holds (runs, visibility and outbox delivery are asynchronous); fails with the last value. */
export async function until<T>(
  probe: () => Promise<T>,
  ok: (v: T) => boolean,
  what = 'condition',
  timeoutMs = CONDITION_TIMEOUT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)?.slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
