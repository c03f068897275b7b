import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Names that live in Temporal and must never change once runs exist: workflow ids and custom
 * search attributes (registered on the dev server by the start command, on a cluster by the operator).
 */
export const SHOP_ID_ATTR = defineSearchAttributeKey('ShopId', SearchAttributeType.KEYWORD);
export const SESSION_ID_ATTR = defineSearchAttributeKey('SessionId', SearchAttributeType.KEYWORD);
export const SESSION_STATUS_ATTR = defineSearchAttributeKey('SessionStatus', SearchAttributeType.KEYWORD);
export const AGENT_ID_ATTR = defineSearchAttributeKey('AgentId', SearchAttributeType.KEYWORD);

export const CUSTOM_SEARCH_ATTRIBUTES = [SHOP_ID_ATTR, SESSION_ID_ATTR, SESSION_STATUS_ATTR, AGENT_ID_ATTR] as const;

export function conversationWorkflowId(shopId: string, sessionId: string): string {
  return `conversation:${shopId}:${sessionId}`;
}

export function shopWorkflowId(shopId: string): string {
  return `shop:${shopId}`;
}

export function webhookWorkflowId(shopId: string, endpointId: string): string {
  return `webhook:${shopId}:${endpointId}`;
}
