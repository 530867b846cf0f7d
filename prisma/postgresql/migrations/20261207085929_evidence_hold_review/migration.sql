-- AlterTable
ALTER TABLE "Alert" ADD COLUMN     "holdReviewAt" TIMESTAMP(3);
