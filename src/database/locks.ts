/**
 * PostgreSQL advisory lock keys, in one place so no two features pick the same number.
 * Each serialises one kind of change across every instance on the database.
 */
/** Running migrations at start-up. */
export const MIGRATION_LOCK = 5_000_421_337;
/** Identity changes that could remove the last enabled Administrator. */
export const ADMIN_GUARD_LOCK = 5_000_421_338;
/** Creating (or resetting) the first Administrator. */
export const BOOTSTRAP_LOCK = 5_000_421_339;
/** Endpoint rule changes, and deleting a role a rule might take up meanwhile. */
export const ENDPOINT_RULES_LOCK = 5_000_421_340;
