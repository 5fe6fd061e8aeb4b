import { BadRequestException, Injectable, Param, type PipeTransform } from '@nestjs/common';

const MAX_INT4 = 2_147_483_647;

/** A positive integer path id that fits a PostgreSQL `integer` (larger ones would be a database error). */
@Injectable()
export class IdPipe implements PipeTransform<string, number> {
  constructor(private readonly name: string) {}

  transform(value: string): number {
    if (!/^\d{1,10}$/.test(value) || Number(value) < 1 || Number(value) > MAX_INT4) {
      throw new BadRequestException(`${this.name} must be a positive whole number, got "${String(value).slice(0, 40)}"`);
    }
    return Number(value);
  }
}

/** `@IdParam()` reads `:id` as a validated integer. */
export const IdParam = (name = 'id'): ParameterDecorator => Param(name, new IdPipe(name));
