import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Names that live in Temporal and must never change once runs exist: workflow ids and custom
 * search attributes (registered on the dev server by the start command, on a cluster by the operator).
 */
export const SHOP_ID_ATTR = defineSearchAttributeKey('ShopId', SearchAttributeType.KEYWORD);
export const SESSION_ID_ATTR = defineSearchAttributeKey('SessionId', SearchAttributeType.KEYWORD);
export const SESSION_STATUS_ATTR = defineSearchAttributeKey('SessionStatus', SearchAttributeType.KEYWORD);
export const AGENT_ID_ATTR = defineSearchAttributeKey('AgentId', SearchAttributeType.KEYWORD);

/** Why the session closed (agent_reply_timeout, queue_timeout, …); unset while it has not. */
export const CLOSE_REASON_ATTR = defineSearchAttributeKey('CloseReason', SearchAttributeType.KEYWORD);
/** When the session's running timer fires next; unset when no timer runs. */
export const NEXT_DEADLINE_ATTR = defineSearchAttributeKey('NextDeadline', SearchAttributeType.DATETIME);

export const CUSTOM_SEARCH_ATTRIBUTES = [
  SHOP_ID_ATTR,
  SESSION_ID_ATTR,
  SESSION_STATUS_ATTR,
  AGENT_ID_ATTR,
  CLOSE_REASON_ATTR,
  NEXT_DEADLINE_ATTR,
] as const;

/** The CLI's and the operator service's names for the attribute types used above. */
export function searchAttributeTypeName(attr: (typeof CUSTOM_SEARCH_ATTRIBUTES)[number]): 'Keyword' | 'Datetime' {
  return attr.type === SearchAttributeType.DATETIME ? 'Datetime' : 'Keyword';
}
export function indexedValueTypeOf(attr: (typeof CUSTOM_SEARCH_ATTRIBUTES)[number]): number {
  return attr.type === SearchAttributeType.DATETIME ? 6 /* DATETIME */ : 2; /* KEYWORD */
}

export function conversationWorkflowId(shopId: string, sessionId: string): string {
  return `conversation:${shopId}:${sessionId}`;
}

export function shopWorkflowId(shopId: string): string {
  return `shop:${shopId}`;
}

export function webhookWorkflowId(shopId: string, endpointId: string): string {
  return `webhook:${shopId}:${endpointId}`;
}
