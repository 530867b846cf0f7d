/** Keyset paging helpers shared by the repositories (Prisma `where` fragments stay in src/db). */

/** The last item of a page, by (timestamp, id), newest first. */
export interface PageKey {
  at: Date;
  id: string;
}

/**
 * Prisma `where` fragment selecting rows after the key in (field desc, id desc) order.
 * Written as a range plus an exclusion (field <= at AND NOT (field = at AND id >= key.id)):
 * the equivalent (field < at OR (field = at AND id < key.id)) form keeps SQLite from using
 * the (…, field) index as a range and makes it sort the whole table for every page
 * (measured 160 ms vs 3 ms per 500-row page at 50k rows, CSV export).
 */
export function afterKey<F extends string>(field: F, key: PageKey): Record<string, unknown> {
  return {
    [field]: { lte: key.at },
    NOT: { [field]: key.at, id: { gte: key.id } },
  };
}

/** The same for (field asc, id asc) order: rows after the key, oldest first. */
export function afterKeyAscending<F extends string>(field: F, key: PageKey): Record<string, unknown> {
  return {
    [field]: { gte: key.at },
    NOT: { [field]: key.at, id: { lte: key.id } },
  };
}
