-- AlterTable
ALTER TABLE "Camera" ADD COLUMN     "confirmFrames" INTEGER,
ADD COLUMN     "confirmWindow" INTEGER;

-- AlterTable
ALTER TABLE "Violation" ADD COLUMN     "personId" TEXT;

-- CreateTable
CREATE TABLE "TrackSighting" (
    "id" TEXT NOT NULL,
    "cameraId" TEXT NOT NULL,
    "frameId" TEXT NOT NULL,
    "faceIndex" INTEGER NOT NULL,
    "trackKey" TEXT NOT NULL,
    "capturedAt" TIMESTAMP(3) NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL,
    "boxX" INTEGER NOT NULL,
    "boxY" INTEGER NOT NULL,
    "boxW" INTEGER NOT NULL,
    "boxH" INTEGER NOT NULL,
    "faceScore" DOUBLE PRECISION NOT NULL,
    "maskProbability" DOUBLE PRECISION NOT NULL,
    "noMaskProbability" DOUBLE PRECISION NOT NULL,
    "maskIncorrectProbability" DOUBLE PRECISION NOT NULL,
    "violating" BOOLEAN NOT NULL,
    "shotQuality" DOUBLE PRECISION NOT NULL,
    "faceSnapshotPath" TEXT,
    "frameSnapshotPath" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "TrackSighting_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AlertPerson" (
    "id" TEXT NOT NULL,
    "alertId" TEXT NOT NULL,
    "cameraId" TEXT NOT NULL,
    "trackKey" TEXT NOT NULL,
    "label" TEXT NOT NULL,
    "boxX" INTEGER NOT NULL,
    "boxY" INTEGER NOT NULL,
    "boxW" INTEGER NOT NULL,
    "boxH" INTEGER NOT NULL,
    "noMaskProbability" DOUBLE PRECISION NOT NULL,
    "bestShotPath" TEXT,
    "bestShotQuality" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "lastFrameSnapshotPath" TEXT,
    "firstSeenAt" TIMESTAMP(3) NOT NULL,
    "lastSeenAt" TIMESTAMP(3) NOT NULL,
    "falsePositive" BOOLEAN NOT NULL DEFAULT false,
    "falsePositiveReason" TEXT,
    "falsePositiveAt" TIMESTAMP(3),
    "falsePositiveBy" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "AlertPerson_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "TrackSighting_cameraId_capturedAt_idx" ON "TrackSighting"("cameraId", "capturedAt");

-- CreateIndex
CREATE INDEX "TrackSighting_cameraId_trackKey_idx" ON "TrackSighting"("cameraId", "trackKey");

-- CreateIndex
CREATE INDEX "TrackSighting_capturedAt_idx" ON "TrackSighting"("capturedAt");

-- CreateIndex
CREATE UNIQUE INDEX "TrackSighting_frameId_faceIndex_key" ON "TrackSighting"("frameId", "faceIndex");

-- CreateIndex
CREATE INDEX "AlertPerson_cameraId_trackKey_idx" ON "AlertPerson"("cameraId", "trackKey");

-- CreateIndex
CREATE UNIQUE INDEX "AlertPerson_alertId_trackKey_key" ON "AlertPerson"("alertId", "trackKey");

-- CreateIndex
CREATE INDEX "Violation_personId_idx" ON "Violation"("personId");

-- AddForeignKey
ALTER TABLE "Violation" ADD CONSTRAINT "Violation_personId_fkey" FOREIGN KEY ("personId") REFERENCES "AlertPerson"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TrackSighting" ADD CONSTRAINT "TrackSighting_cameraId_fkey" FOREIGN KEY ("cameraId") REFERENCES "Camera"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AlertPerson" ADD CONSTRAINT "AlertPerson_alertId_fkey" FOREIGN KEY ("alertId") REFERENCES "Alert"("id") ON DELETE CASCADE ON UPDATE CASCADE;
