-- AlterTable
ALTER TABLE "Alert" ADD COLUMN "resolutionOutcome" TEXT;
