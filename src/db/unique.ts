/** Whether a Prisma error is a unique constraint's (P2002): another writer stored the same key first. */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'P2002';
}
