/**
 * The drill's webhook receivers: HTTP servers on loopback, each taking one endpoint per shop at
 * /hooks/<shopId>, verifying every delivery's signature (standardwebhooks) and keeping what came.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Delivery {
  webhookId: string;
  seq: number;
  eventId: string;
  type: string;
  sessionId: string | null;
  at: number;
}

export class DrillReceiver {
  readonly secrets = new Map<string, string>();
  /** Per shop, every verified delivery in arrival order (repeats included). */
  readonly deliveries = new Map<string, Delivery[]>();
  rejected = 0;
  private server?: http.Server;
  baseUrl = '';

  constructor(readonly name: string) {}

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const shop = decodeURIComponent((req.url ?? '').replace(/^\/hooks\//, ''));
        const secret = this.secrets.get(shop);
        try {
          if (!secret) throw new Error('unknown shop');
          const e = new Webhook(secret).verify(Buffer.concat(chunks).toString('utf8'), req.headers as Record<string, string>) as {
            id: string;
            seq: number;
            type: string;
            sessionId: string | null;
          };
          const list = this.deliveries.get(shop) ?? [];
          list.push({
            webhookId: String(req.headers['webhook-id']),
            seq: e.seq,
            eventId: String(e.id),
            type: e.type,
            sessionId: e.sessionId,
            at: Date.now(),
          });
          this.deliveries.set(shop, list);
          res.writeHead(204).end();
        } catch {
          this.rejected += 1;
          res.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  urlFor(shop: string): string {
    return `${this.baseUrl}/hooks/${encodeURIComponent(shop)}`;
  }

  /** Whether both of a session's first events (opened, assigned) have come for `sessionId`. */
  hasSessionEvents(shop: string, sessionId: string, types: string[]): boolean {
    const seen = new Set((this.deliveries.get(shop) ?? []).filter((d) => d.sessionId === sessionId).map((d) => d.type));
    return types.every((t) => seen.has(t));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
