// Recognising constraint violations from either database, so callers can turn a lost race
// (two creates of the same name) into a clear `conflict` instead of a 500.

export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as { code?: unknown; errcode?: unknown; message?: unknown };
  if (e.code === "23505") return true; // PostgreSQL unique_violation
  if (e.errcode === 2067 || e.errcode === 1555) return true; // SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY
  return typeof e.message === "string" && /UNIQUE constraint failed/.test(e.message);
}
