-- AlterTable
-- A plain ADD COLUMN (SQLite allows NOT NULL with a constant default): no table rebuild, so no
-- DROP TABLE "Camera" whose implicit delete could cascade to violations and alerts.
ALTER TABLE "Camera" ADD COLUMN "groupingVersion" INTEGER NOT NULL DEFAULT 0;
