/**
 * Input strictness at the edge (docs/rules.md §4): JSON bodies are validated without type coercion ("20" is not
 * 20), query strings and path parameters may still parse numbers, and every string anywhere in the
 * request is free of NUL bytes and lone surrogates (Postgres refuses the first, JSON encoders the
 * second). Deeply nested bodies are refused before anything looks at them.
 */
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from './errors';

/** Deeper than any request this API takes; a bound on the work a hostile body can cause. */
const MAX_DEPTH = 16;
// eslint-disable-next-line no-control-regex -- finding NUL is the point
const BAD_STRING = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function strictAjv(coerceTypes: boolean): Ajv {
  const ajv = new Ajv({ coerceTypes, useDefaults: true, removeAdditional: false, allErrors: false, strict: false });
  addFormats(ajv);
  return ajv;
}

/** Finds the first string (value or key) that no column or JSON encoder should get; iterative, depth-bounded. */
export function findBadInput(value: unknown): string | null {
  const stack: { v: unknown; depth: number; path: string }[] = [{ v: value, depth: 0, path: '' }];
  while (stack.length) {
    const { v, depth, path } = stack.pop()!;
    if (typeof v === 'string') {
      if (BAD_STRING.test(v)) return `${path || 'a value'} contains a NUL byte or a lone surrogate`;
    } else if (v !== null && typeof v === 'object') {
      if (depth >= MAX_DEPTH) return `${path || 'the body'} is nested deeper than ${MAX_DEPTH} levels`;
      for (const [k, child] of Object.entries(v)) {
        if (BAD_STRING.test(k)) return `a property name contains a NUL byte or a lone surrogate`;
        stack.push({ v: child, depth: depth + 1, path: `${path}/${k}` });
      }
    }
  }
  return null;
}

export function registerStrictValidation(app: FastifyInstance): void {
  const compilers = { body: strictAjv(false), querystring: strictAjv(true), params: strictAjv(true), headers: strictAjv(true) };
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const ajv = compilers[(httpPart ?? 'body') as keyof typeof compilers] ?? compilers.body;
    return ajv.compile(schema);
  });
  app.addHook('preValidation', async (req: FastifyRequest) => {
    const problem = findBadInput(req.params) ?? findBadInput(req.query) ?? findBadInput(req.body);
    if (problem) throw new ApiError('invalid_string', problem, 400);
  });
}
