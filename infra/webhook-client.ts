/**
 * One signed webhook request (docs/rules.md §6.7), per the Standard Webhooks specification: the `standardwebhooks`
 * package signs `webhook-id.webhook-timestamp.body`; receivers verify with the same package.
 * Redirects are not followed (a redirect could point inward); 2xx is success, anything else a failure.
 */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { WEBHOOK_REQUEST_TIMEOUT_MS } from '../domain/webhooks';
import { assertDeliverableUrl, type NetworkPolicy } from './network-policy';

export function newSigningSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

export interface WebhookResult {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

export async function sendWebhook(opts: {
  url: string;
  secret: string;
  webhookId: string;
  body: string;
  /** Checked here unless the caller checked the URL already (once per delivery batch). */
  policy?: NetworkPolicy;
  timeoutMs?: number;
}): Promise<WebhookResult> {
  const started = Date.now();
  const done = (r: Omit<WebhookResult, 'durationMs'>): WebhookResult => ({ ...r, durationMs: Date.now() - started });
  if (opts.policy) {
    try {
      await assertDeliverableUrl(opts.url, opts.policy);
    } catch (err) {
      return done({ ok: false, statusCode: null, error: err instanceof Error ? err.message : String(err) });
    }
  }
  const timestamp = new Date();
  const signature = new Webhook(opts.secret).sign(opts.webhookId, timestamp, opts.body);
  try {
    const res = await fetch(opts.url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(opts.timeoutMs ?? WEBHOOK_REQUEST_TIMEOUT_MS),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'cs-orchestrator-webhooks/1',
        'webhook-id': opts.webhookId,
        'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
        'webhook-signature': signature,
      },
      body: opts.body,
    });
    await res.body?.cancel().catch(() => undefined);
    const ok = res.status >= 200 && res.status < 300;
    return done({ ok, statusCode: res.status, error: ok ? null : `receiver answered ${res.status}` });
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return done({ ok: false, statusCode: null, error: `${err instanceof Error ? err.message : String(err)}${cause}` });
  }
}
