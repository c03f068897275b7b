/** Request and response schemas of the handoff routes (docs/rules.md §9). */
import { TRANSFER_NOTE_MAX_LENGTH } from '../../../domain/limits';
import { errorResponses, externalId } from '../../schemas';

export const transferBody = {
  type: 'object',
  additionalProperties: false,
  description: 'Exactly one of toAgentId (that agent) or toGroupId (its least-loaded online agent with a free seat)',
  oneOf: [{ required: ['toAgentId'] }, { required: ['toGroupId'] }],
  properties: {
    toAgentId: externalId,
    toGroupId: externalId,
    note: { type: 'string', maxLength: TRANSFER_NOTE_MAX_LENGTH, description: 'Shown to the agent who receives the session' },
  },
  examples: [{ toGroupId: 'grp_aftersales', note: '买家要退货，转售后' }],
} as const;

export const transferResponses = {
  200: {
    type: 'object',
    required: ['session', 'transfer'],
    properties: { session: { $ref: 'Session#' }, transfer: { $ref: 'Transfer#' } },
  },
  ...errorResponses,
} as const;
