-- AlterTable
ALTER TABLE "Camera" ADD COLUMN "confirmFrames" INTEGER;
ALTER TABLE "Camera" ADD COLUMN "confirmWindow" INTEGER;

-- CreateTable
CREATE TABLE "TrackSighting" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "cameraId" TEXT NOT NULL,
    "frameId" TEXT NOT NULL,
    "faceIndex" INTEGER NOT NULL,
    "trackKey" TEXT NOT NULL,
    "capturedAt" DATETIME NOT NULL,
    "receivedAt" DATETIME NOT NULL,
    "boxX" INTEGER NOT NULL,
    "boxY" INTEGER NOT NULL,
    "boxW" INTEGER NOT NULL,
    "boxH" INTEGER NOT NULL,
    "faceScore" REAL NOT NULL,
    "maskProbability" REAL NOT NULL,
    "noMaskProbability" REAL NOT NULL,
    "maskIncorrectProbability" REAL NOT NULL,
    "violating" BOOLEAN NOT NULL,
    "shotQuality" REAL NOT NULL,
    "faceSnapshotPath" TEXT,
    "frameSnapshotPath" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "TrackSighting_cameraId_fkey" FOREIGN KEY ("cameraId") REFERENCES "Camera" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "AlertPerson" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "alertId" TEXT NOT NULL,
    "cameraId" TEXT NOT NULL,
    "trackKey" TEXT NOT NULL,
    "label" TEXT NOT NULL,
    "boxX" INTEGER NOT NULL,
    "boxY" INTEGER NOT NULL,
    "boxW" INTEGER NOT NULL,
    "boxH" INTEGER NOT NULL,
    "noMaskProbability" REAL NOT NULL,
    "bestShotPath" TEXT,
    "bestShotQuality" REAL NOT NULL DEFAULT 0,
    "lastFrameSnapshotPath" TEXT,
    "firstSeenAt" DATETIME NOT NULL,
    "lastSeenAt" DATETIME NOT NULL,
    "falsePositive" BOOLEAN NOT NULL DEFAULT false,
    "falsePositiveReason" TEXT,
    "falsePositiveAt" DATETIME,
    "falsePositiveBy" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "AlertPerson_alertId_fkey" FOREIGN KEY ("alertId") REFERENCES "Alert" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Violation" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "cameraId" TEXT NOT NULL,
    "frameId" TEXT NOT NULL,
    "faceIndex" INTEGER NOT NULL,
    "capturedAt" DATETIME NOT NULL,
    "receivedAt" DATETIME NOT NULL,
    "boxX" INTEGER NOT NULL,
    "boxY" INTEGER NOT NULL,
    "boxW" INTEGER NOT NULL,
    "boxH" INTEGER NOT NULL,
    "faceScore" REAL NOT NULL,
    "noMaskProbability" REAL NOT NULL,
    "faceSnapshotPath" TEXT,
    "frameSnapshotPath" TEXT,
    "alertId" TEXT,
    "personId" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Violation_cameraId_fkey" FOREIGN KEY ("cameraId") REFERENCES "Camera" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Violation_alertId_fkey" FOREIGN KEY ("alertId") REFERENCES "Alert" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "Violation_personId_fkey" FOREIGN KEY ("personId") REFERENCES "AlertPerson" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_Violation" ("alertId", "boxH", "boxW", "boxX", "boxY", "cameraId", "capturedAt", "createdAt", "faceIndex", "faceScore", "faceSnapshotPath", "frameId", "frameSnapshotPath", "id", "noMaskProbability", "receivedAt") SELECT "alertId", "boxH", "boxW", "boxX", "boxY", "cameraId", "capturedAt", "createdAt", "faceIndex", "faceScore", "faceSnapshotPath", "frameId", "frameSnapshotPath", "id", "noMaskProbability", "receivedAt" FROM "Violation";
DROP TABLE "Violation";
ALTER TABLE "new_Violation" RENAME TO "Violation";
CREATE INDEX "Violation_cameraId_capturedAt_idx" ON "Violation"("cameraId", "capturedAt");
CREATE INDEX "Violation_capturedAt_idx" ON "Violation"("capturedAt");
CREATE INDEX "Violation_alertId_idx" ON "Violation"("alertId");
CREATE INDEX "Violation_personId_idx" ON "Violation"("personId");
CREATE UNIQUE INDEX "Violation_frameId_faceIndex_key" ON "Violation"("frameId", "faceIndex");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

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
