-- AlterTable
ALTER TABLE "Alert" ADD COLUMN "holdReviewAt" DATETIME;
