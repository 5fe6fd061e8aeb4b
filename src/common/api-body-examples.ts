import { ApiBody } from '@nestjs/swagger';

type Class = abstract new (...args: never[]) => unknown;

/**
 * A request body with named, complete examples. Swagger UI's "Try it out" starts from the first one,
 * instead of one body built from every property's example (which would give aliases like role/roles
 * both, or contradictory fields).
 */
export function ApiBodyExamples(type: Class, examples: Record<string, object>): MethodDecorator {
  return ApiBody({
    type,
    examples: Object.fromEntries(Object.entries(examples).map(([summary, value]) => [summary.replace(/\W+/g, '-'), { summary, value }])),
  });
}
