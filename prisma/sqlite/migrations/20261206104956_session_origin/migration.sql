-- AlterTable
ALTER TABLE "Session" ADD COLUMN "clientIp" TEXT;
ALTER TABLE "Session" ADD COLUMN "userAgent" TEXT;
