/**
 * Request types come from the routes' own JSON schemas (json-schema-to-ts through Fastify's type
 * provider): the schema that validates a request and documents it in the OpenAPI description is also
 * where its TypeScript type comes from, so the two cannot drift. Responses are checked by their
 * schemas at run time (serialization) and by the typed client's generation, not here: most response
 * schemas are open objects, which json-schema-to-ts would type with index signatures.
 */
import type { FastifyInstance, FastifyTypeProvider } from 'fastify';
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';

export interface RequestTypesFromSchemas extends FastifyTypeProvider {
  validator: this['schema'] extends JSONSchema ? FromSchema<this['schema']> : unknown;
  serializer: unknown;
}

export function typed(app: FastifyInstance) {
  return app.withTypeProvider<RequestTypesFromSchemas>();
}
