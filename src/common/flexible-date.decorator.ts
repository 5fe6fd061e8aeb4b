import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { ValidateBy } from 'class-validator';
import { InvalidDate, parseFlexibleDate } from './flexible-date.js';

/**
 * A date property accepting ISO 8601 (up to 7 fractional digits), "/Date(ms)/", Windows PowerShell 5.1's
 * date object, and (with allowNever) "never". After validation it holds a Date or "never".
 */
export function FlexibleDate(options: { allowNever: boolean }): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }) => (value === undefined || value === null ? value : parseFlexibleDate(value, options.allowNever))),
    ValidateBy({
      name: 'flexibleDate',
      validator: {
        validate: (value: unknown) => !(value instanceof InvalidDate),
        defaultMessage: (args) => `${args?.property}: ${(args?.value as InvalidDate)?.reason ?? 'invalid date'}`,
      },
    }),
  );
}
