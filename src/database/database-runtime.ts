/** Injection token of where the database is, as start-up resolved it. */
export const DATABASE_RUNTIME = Symbol('DATABASE_RUNTIME');

export interface DatabaseRuntime {
  url: string;
  /** True on embedded PGlite: one process, and NOTIFY does not cross its socket. */
  embedded: boolean;
}
