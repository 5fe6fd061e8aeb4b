import { QueryFailedError } from 'typeorm';

/** True when `error` is PostgreSQL's unique_violation (23505). */
export function isUniqueViolation(error: unknown): boolean {
  return error instanceof QueryFailedError && (error.driverError as { code?: string })?.code === '23505';
}

/** True when `error` is PostgreSQL's foreign_key_violation (23503): what it refers to is gone. */
export function isForeignKeyViolation(error: unknown): boolean {
  return error instanceof QueryFailedError && (error.driverError as { code?: string })?.code === '23503';
}

/**
 * True when `error` is PostgreSQL's deadlock_detected (40P01) or serialization_failure (40001): the transaction
 * was rolled back whole because of a concurrent one, and running it again may succeed.
 */
export function isTransactionConflict(error: unknown): boolean {
  const code = error instanceof QueryFailedError ? (error.driverError as { code?: string })?.code : undefined;
  return code === '40P01' || code === '40001';
}
