-- AlterTable
ALTER TABLE "AlertPerson" ADD COLUMN     "maskedSince" TIMESTAMP(3);
