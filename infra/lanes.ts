/**
 * Work that must stay in order per key (a workflow's outbox rows, a session's events) and may run in
 * parallel across keys: items are grouped by key, keeping their order, and up to `concurrency`
 * lanes each take one group at a time.
 */
export async function inOrderPerKey<T>(
  items: T[],
  keyOf: (item: T) => string,
  concurrency: number,
  handleGroup: (group: T[]) => Promise<void>,
): Promise<void> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  const queue = [...groups.values()];
  let next = 0;
  const lane = async () => {
    while (next < queue.length) await handleGroup(queue[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, lane));
}
