import { BadRequestException, ValidationPipe, type ValidationError } from '@nestjs/common';

function flatten(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((error) => {
    const here = Object.values(error.constraints ?? {}).map((message) =>
      prefix && message.startsWith(error.property) ? `${prefix}${message}` : message,
    );
    return [...here, ...flatten(error.children ?? [], `${prefix}${error.property}.`)];
  });
}

/** Rejects unknown properties, converts types, and answers with one readable message. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    forbidUnknownValues: true,
    exceptionFactory: (errors) => new BadRequestException(flatten(errors).join('; ') || 'Invalid request'),
  });
}
