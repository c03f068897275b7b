/** A webhook receiver on loopback that verifies every delivery with the standardwebhooks library. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  webhookId: string;
  event: { id: string; seq: number | null; type: string; sessionId: string | null; data: Record<string, unknown> };
}

export interface Receiver {
  url: string;
  /** Verified deliveries, in arrival order (repeats included). */
  received: Received[];
  /** Requests whose signature did not verify. */
  rejected: number;
  /** While false, every request is answered 503 (a receiver that is down). */
  up: boolean;
  secret: string | null;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const state: Receiver = { url: '', received: [], rejected: 0, up: true, secret: null, close: async () => undefined };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (!state.up) {
        res.writeHead(503).end();
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        if (!state.secret) throw new Error('no secret yet');
        const event = new Webhook(state.secret).verify(body, req.headers as Record<string, string>) as Received['event'];
        state.received.push({ webhookId: String(req.headers['webhook-id']), event });
        res.writeHead(204).end();
      } catch {
        state.rejected++;
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  state.close = () => new Promise((resolve) => server.close(() => resolve()));
  return state;
}
