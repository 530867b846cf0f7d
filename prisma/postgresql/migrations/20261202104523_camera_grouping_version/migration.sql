-- AlterTable
ALTER TABLE "Camera" ADD COLUMN     "groupingVersion" INTEGER NOT NULL DEFAULT 0;
