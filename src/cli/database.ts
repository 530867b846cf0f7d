/**
 * The database as the admin commands (`users`, `audit`) open it: configuration from the environment, logs on
 * stderr at warn (stdout carries the command's result), and an older schema migrated, never silently.
 * Imported lazily by those commands, so their --help and argument errors load none of it.
 */
import { loadConfigOrReport, type Config } from '../config/config.ts';
import { openDatabase, type Database } from '../db/client.ts';
import type { Logger } from 'pino';
import { createRepositories, type Repositories } from '../db/repositories/index.ts';
import { createLogger } from '../system/logger.ts';

export interface CliDatabase {
  config: Config;
  logger: Logger;
  db: Database;
  repos: Repositories;
}

/** Null when the configuration is invalid (already reported on stderr). */
export async function openCliDatabase(): Promise<CliDatabase | null> {
  const config = loadConfigOrReport(process.stderr);
  if (!config) return null;
  const logger = createLogger({ logLevel: config.logLevel === 'silent' ? 'silent' : 'warn' });
  const db = await openDatabase(config.databaseUrl, { logger, poolSize: config.databasePoolSize });
  // Any command migrates an older schema (its queries need the new one).
  if (db.appliedMigrations.length > 0) process.stderr.write(`maskwatch: applied database migrations: ${db.appliedMigrations.join(', ')}\n`);
  return { config, logger, db, repos: createRepositories(db.prisma) };
}
