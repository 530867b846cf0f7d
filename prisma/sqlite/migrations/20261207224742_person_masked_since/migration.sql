-- AlterTable
ALTER TABLE "AlertPerson" ADD COLUMN "maskedSince" DATETIME;
