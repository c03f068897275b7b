/**
 * Response serializers compiled once per distinct schema, not once per route and status code.
 * Fastify's default compiles (and re-validates every shared schema for) each of the ~400 response
 * schemas of an app, although most are the same error body: ≈ 0.5 s of CPU per app built. The cache
 * is per process and keyed by the schema's JSON and the shared schemas it may refer to, so an app
 * built again (tests build many) reuses what the first compiled. A serializer is a pure function.
 */
import { SerializerSelector, type SerializerFactory } from '@fastify/fast-json-stringify-compiler';

const defaultFactory = SerializerSelector();
const compiledByContext = new Map<string, Map<string, ReturnType<ReturnType<SerializerFactory>>>>();

export const cachedSerializerFactory: SerializerFactory = (externalSchemas, options) => {
  const compile = defaultFactory(externalSchemas, options);
  const context = JSON.stringify([externalSchemas ?? null, options ?? null]);
  let compiled = compiledByContext.get(context);
  if (!compiled) compiledByContext.set(context, (compiled = new Map()));
  return (route) => {
    const key = JSON.stringify(route.schema);
    let serializer = compiled.get(key);
    if (!serializer) compiled.set(key, (serializer = compile(route)));
    return serializer;
  };
};
