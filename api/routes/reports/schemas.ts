/** Request and response schemas of the service report (docs/rules.md §10). */
import { REPORT_MAX_DAYS } from '../../../domain/service-levels';
import { errorResponses, securedByShopKey, shopParams } from '../../schemas';

const day = { type: 'string', format: 'date', description: 'A shop-local day, YYYY-MM-DD' } as const;

export const serviceReportSchema = {
  operationId: 'getServiceReport',
  tags: ['reports'],
  summary: 'Service levels (服务数据): response times, queue waits and volumes per day, agent or group',
  description: `Figures from the service facts recorded as sessions change (docs/rules.md §10), over shop-local days from..to (both included; default the last 7 days; at most ${REPORT_MAX_DAYS}). groupBy=day lists every day, zeros included; agent and group list those with facts (a group: its current members). Replies are counted when their session closes. An agent's key sees only its own figures. 400 invalid_range when from is after to or the range is too long.`,
  security: securedByShopKey,
  params: shopParams,
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      from: day,
      to: day,
      groupBy: { type: 'string', enum: ['day', 'agent', 'group'], default: 'day' },
    },
  },
  response: {
    200: {
      type: 'object',
      additionalProperties: false,
      required: ['shopId', 'timeZone', 'from', 'to', 'groupBy', 'totals', 'rows'],
      properties: {
        shopId: { type: 'string' },
        timeZone: { type: 'string', description: 'The shop time zone the days are in' },
        from: day,
        to: day,
        groupBy: { type: 'string', enum: ['day', 'agent', 'group'] },
        totals: { $ref: 'ServiceFigures#' },
        rows: { type: 'array', items: { $ref: 'ServiceReportRow#' } },
      },
    },
    ...errorResponses,
  },
} as const;
