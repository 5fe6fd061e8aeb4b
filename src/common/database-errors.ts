import { QueryFailedError } from 'typeorm';

/** True when `error` is PostgreSQL's unique_violation (23505). */
export function isUniqueViolation(error: unknown): boolean {
  return error instanceof QueryFailedError && (error.driverError as { code?: string })?.code === '23505';
}

/** True when `error` is PostgreSQL's foreign_key_violation (23503): what it refers to is gone. */
export function isForeignKeyViolation(error: unknown): boolean {
  return error instanceof QueryFailedError && (error.driverError as { code?: string })?.code === '23503';
}
