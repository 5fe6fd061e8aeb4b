import { HttpStatus, ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { ApiException, ErrorCode } from './error-code.js';

/** Constraints about the kind of value: when one fails, the others (length, range) only add noise. */
const TYPE_CONSTRAINTS = ['isString', 'isInt', 'isNumber', 'isBoolean', 'isArray', 'isObject', 'isDate', 'isIn', 'flexibleDate', 'nestedValidation'];

function messages(error: ValidationError, path: string): string[] {
  const constraints = error.constraints ?? {};
  const names = Object.keys(constraints);
  if (names.length === 0) return [];
  if (error.value === undefined) return [`${path}${error.property} is required`];
  const typeFailure = names.find((name) => TYPE_CONSTRAINTS.includes(name));
  const chosen = typeFailure ? [typeFailure] : names;
  return chosen.map((name) => {
    const message = constraints[name];
    return path && message.startsWith(error.property) ? `${path}${message}` : message;
  });
}

/** A message quotes the property name the client sent, which may be 100 kB long: keep answers short. */
function bounded(message: string): string {
  return message.length > 300 ? `${message.slice(0, 300)}…` : message;
}

function flatten(errors: ValidationError[], path = ''): string[] {
  return errors.flatMap((error) => [...messages(error, path).map(bounded), ...flatten(error.children ?? [], `${path}${error.property}.`)]);
}

/**
 * Rejects unknown properties, converts types, and answers with one readable sentence: a missing field is
 * "x is required", a wrongly typed one gets the type message alone. Path parameters are left to their
 * own pipes (converting ":id" to a number first would turn "abc" into NaN before IdPipe sees it).
 */
class AppValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'param') return value;
    return super.transform(value, metadata);
  }
}

export function createValidationPipe(): ValidationPipe {
  return new AppValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    forbidUnknownValues: true,
    exceptionFactory: (errors) => new ApiException(HttpStatus.BAD_REQUEST, ErrorCode.VALIDATION_FAILED, flatten(errors).join('; ') || 'Invalid request'),
  });
}
