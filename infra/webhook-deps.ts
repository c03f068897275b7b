import type { AppConfig } from '../config';
import type { NetworkPolicy } from './network-policy';
import { SecretBox } from './secret-box';

/** What both the API (registration, test sends) and the worker (deliveries) need for webhooks. */
export interface WebhookDeps {
  box: SecretBox;
  policy: NetworkPolicy;
}

export function webhookDeps(config: Pick<AppConfig, 'webhooks'>): WebhookDeps | undefined {
  if (!config.webhooks.secretKey) return undefined;
  return {
    box: new SecretBox(config.webhooks.secretKey),
    policy: { allowLoopback: config.webhooks.allowLoopback, allowPrivate: config.webhooks.allowPrivate },
  };
}
