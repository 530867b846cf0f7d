-- AlterTable
ALTER TABLE "Alert" ADD COLUMN     "heldAt" TIMESTAMP(3),
ADD COLUMN     "heldBy" TEXT,
ADD COLUMN     "holdReason" TEXT;
