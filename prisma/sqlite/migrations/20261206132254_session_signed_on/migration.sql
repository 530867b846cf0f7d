-- AlterTable
ALTER TABLE "Session" ADD COLUMN "signedOnAt" DATETIME;
