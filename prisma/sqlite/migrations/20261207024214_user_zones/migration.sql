-- AlterTable
ALTER TABLE "User" ADD COLUMN "zones" TEXT;
