-- AlterTable
ALTER TABLE "Session" ADD COLUMN     "signedOnAt" TIMESTAMP(3);
