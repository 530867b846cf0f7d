-- AlterTable
ALTER TABLE "Session" ADD COLUMN     "clientIp" TEXT,
ADD COLUMN     "userAgent" TEXT;
