/**
 * Every operation of the served OpenAPI description, fed hostile values (NUL bytes, lone surrogates,
 * ids past bigint, wrong JSON types, unknown properties, deep nesting, 10 MB bodies, non-JSON): each
 * answer is a 4xx in the documented error shape, and nothing in the database changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, createShopViaApi, startStack, type Stack } from '../support/stack';

let stack: Stack;
let key: string;
const SHOP = 'hostile';

beforeAll(async () => {
  stack = await startStack();
  key = await createShopViaApi(stack.app, SHOP);
  // Something to aim at: an agent, a group, a session.
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  await stack.app.inject({ method: 'POST', url: `/v1/shops/${SHOP}/agents`, headers, payload: { name: 'A', capacity: 1 } });
  await stack.app.inject({
    method: 'POST',
    url: `/v1/shops/${SHOP}/sessions`,
    headers,
    payload: { sessionId: 's1', buyerId: 'b1', topic: 't' },
  });
});
afterAll(async () => stack?.stop());

type Schema = { type?: string | string[]; properties?: Record<string, Schema>; required?: string[]; enum?: unknown[] };

/** Row counts of every table: a refused request leaves them as they were. */
async function snapshot(): Promise<Record<string, number>> {
  const tables: string[] = await stack.tdb.db('information_schema.tables').where({ table_schema: 'public' }).pluck('table_name');
  const out: Record<string, number> = {};
  for (const t of tables.filter((t) => !t.startsWith('knex_')).sort()) out[t] = Number((await stack.tdb.db(t).count({ n: '*' }))[0].n);
  return out;
}

const NUL = 'a\u0000b';
const LONE = 'x\uD800y';
const BIG = '99999999999999999999999';

/** Values of JSON types that `s` does not allow. */
function wrongValues(s: Schema): unknown[] {
  const types = new Set(Array.isArray(s.type) ? s.type : s.type ? [s.type] : []);
  const candidates: [string, unknown][] = [
    ['string', 'twenty'],
    ['number', 20.5],
    ['integer', 7],
    ['boolean', true],
    ['null', null],
    ['array', [1]],
    ['object', { a: 1 }],
  ];
  return candidates.filter(([t]) => !types.has(t) && !(t === 'integer' && types.has('number'))).map(([, v]) => v);
}

function hostileBodies(schema: Schema | undefined): { what: string; payload: string }[] {
  const bodies: { what: string; payload: string }[] = [
    { what: 'not JSON', payload: '{"a":' },
    { what: 'deep nesting', payload: '{"a":'.repeat(200) + '1' + '}'.repeat(200) },
    { what: 'unknown property only', payload: JSON.stringify({ unknownProperty: 1 }) },
    { what: '10 MB', payload: JSON.stringify({ blob: 'x'.repeat(10 * 1024 * 1024) }) },
  ];
  for (const [name, prop] of Object.entries(schema?.properties ?? {})) {
    for (const v of wrongValues(prop)) bodies.push({ what: `${name}=${JSON.stringify(v)}`, payload: JSON.stringify({ [name]: v }) });
    bodies.push({ what: `${name} with NUL`, payload: JSON.stringify({ [name]: NUL }) });
    bodies.push({ what: `${name} with a lone surrogate`, payload: JSON.stringify({ [name]: LONE }) });
    bodies.push({ what: `${name} past bigint`, payload: `{"${name}": ${BIG}}` });
  }
  return bodies;
}

describe('hostile input on every operation', () => {
  it('answers 4xx in the error shape and changes nothing', async () => {
    const spec = JSON.parse((await stack.app.inject({ method: 'GET', url: '/openapi.json' })).body);
    const before = await snapshot();
    const failures: string[] = [];
    let requests = 0;
    for (const [path, ops] of Object.entries(
      spec.paths as Record<
        string,
        Record<string, { requestBody?: { content: Record<string, { schema: Schema }> }; security?: { adminToken?: unknown }[] }>
      >,
    )) {
      for (const [method, op] of Object.entries(ops)) {
        const token = op.security?.some((s) => 'adminToken' in s) ? ADMIN_TOKEN : key;
        const headers = { authorization: `Bearer ${token}` };
        const fill = (p: string, v: string) => p.replace('{shopId}', SHOP).replace(/\{[^}]+\}/g, v);
        const send = async (
          what: string,
          url: string,
          extra: { payload?: string; headers?: Record<string, string> } = {},
          mutating = true,
        ) => {
          requests++;
          const res = await stack.app.inject({
            method: method.toUpperCase() as 'GET',
            url,
            headers: { ...headers, ...extra.headers },
            payload: extra.payload,
          });
          const body = res.body ? JSON.parse(res.body) : null;
          const okShape = typeof body?.error?.code === 'string' && typeof body?.error?.message === 'string';
          const fine = res.statusCode >= 400 && res.statusCode < 500 && okShape;
          // A read with odd but harmless input may answer 200; it may never fail as a 5xx.
          if (!fine && (mutating || res.statusCode >= 500 || (res.statusCode >= 400 && !okShape))) {
            failures.push(`${method.toUpperCase()} ${url.slice(0, 80)} [${what}] → ${res.statusCode} ${res.body.slice(0, 160)}`);
          }
        };
        const hasPathParams = /\{(?!shopId)[^}]+\}/.test(path);
        const mutating = method !== 'get';
        if (hasPathParams) {
          for (const v of ['%00', 'x%00y', encodeURIComponent(BIG), '%ED%A0%80', 'a'.repeat(300)]) {
            await send(
              `path ${v.slice(0, 12)}`,
              fill(path, v),
              { payload: mutating ? '{}' : undefined, headers: mutating ? { 'content-type': 'application/json' } : {} },
              mutating,
            );
          }
        }
        const url = fill(path, 's1');
        await send('query', `${url}?limit=${BIG}&after=-1&cursor=%00&status=nope&days=${BIG}`, {}, false);
        if (mutating && path !== '/v1/admin/shops/{shopId}/keys') {
          const schema = op.requestBody?.content?.['application/json']?.schema;
          const bodies = op.requestBody ? hostileBodies(schema) : [];
          for (const b of bodies) await send(b.what, url, { payload: b.payload, headers: { 'content-type': 'application/json' } });
          if (op.requestBody) await send('text/plain', url, { payload: 'hello', headers: { 'content-type': 'text/plain' } });
        }
      }
    }
    expect(failures, failures.join('\n')).toEqual([]);
    expect(requests).toBeGreaterThan(300);
    expect(await snapshot()).toEqual(before);
  });
});

describe('methods and lengths the router refuses', () => {
  it('an undeclared method on a known path is 405 with Allow; an over-long id is a 400 from the schema', async () => {
    const res = await stack.app.inject({
      method: 'DELETE',
      url: `/v1/shops/${SHOP}/sessions`,
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET, POST');
    expect(res.json().error.code).toBe('method_not_allowed');
    const unknown = await stack.app.inject({ method: 'GET', url: '/v1/nowhere' });
    expect(unknown.statusCode).toBe(404);
    const long = await stack.app.inject({
      method: 'GET',
      url: `/v1/shops/${SHOP}/agents/${'a'.repeat(300)}`,
      headers: { authorization: `Bearer ${key}` },
    });
    expect(long.statusCode).toBe(400);
    expect(long.json().error.code).toBe('invalid_request');
  });
});
