import type { EntityManager } from 'typeorm';

/**
 * The database's clock, the one every instance shares. A revocation time written from one instance's
 * clock would be read against another's: an instance running behind would keep accepting the token.
 */
export async function databaseNow(manager: EntityManager): Promise<Date> {
  const [{ now }] = (await manager.query('SELECT clock_timestamp() AS now')) as Array<{ now: Date }>;
  return now;
}
