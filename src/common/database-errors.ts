import { QueryFailedError } from 'typeorm';

/** True when `error` is PostgreSQL's unique_violation (23505). */
export function isUniqueViolation(error: unknown): boolean {
  return error instanceof QueryFailedError && (error.driverError as { code?: string })?.code === '23505';
}
