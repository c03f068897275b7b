/** Loopback ports for the processes the project starts itself (tests, benchmarks, drills). */
import net from 'node:net';

/** A loopback port free right now (and, once this returns, listened on by nothing). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** A base port with `span` free ports above it (below Temporal's smallint membership limit). */
export async function freePortBase(span = 71): Promise<number> {
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    let ok = true;
    for (let p = base; ok && p < base + span; p += 1) ok = await free(p);
    if (ok) return base;
  }
  throw new Error(`no ${span} free ports in a row found between 20000 and 32767`);
}
