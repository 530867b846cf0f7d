-- CreateTable
CREATE TABLE "Camera" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "address" TEXT,
    "latitude" REAL NOT NULL,
    "longitude" REAL NOT NULL,
    "zone" TEXT,
    "apiKeyHash" TEXT NOT NULL,
    "apiKeyHint" TEXT NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "lastFrameAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "Violation" (
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
    "maskProbability" REAL NOT NULL,
    "faceSnapshotPath" TEXT,
    "frameSnapshotPath" TEXT,
    "alertId" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Violation_cameraId_fkey" FOREIGN KEY ("cameraId") REFERENCES "Camera" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Violation_alertId_fkey" FOREIGN KEY ("alertId") REFERENCES "Alert" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Alert" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "cameraId" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'NEW',
    "trackId" TEXT NOT NULL,
    "firstSeenAt" DATETIME NOT NULL,
    "lastSeenAt" DATETIME NOT NULL,
    "violationCount" INTEGER NOT NULL DEFAULT 0,
    "maskProbability" REAL NOT NULL,
    "snapshotPath" TEXT,
    "frameSnapshotPath" TEXT,
    "assignedUnitId" TEXT,
    "dispatchedAt" DATETIME,
    "acknowledgedAt" DATETIME,
    "enRouteAt" DATETIME,
    "onSceneAt" DATETIME,
    "resolvedAt" DATETIME,
    "dismissedAt" DATETIME,
    "dismissReason" TEXT,
    "resolutionNote" TEXT,
    "escalationLevel" INTEGER NOT NULL DEFAULT 0,
    "escalatedAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Alert_cameraId_fkey" FOREIGN KEY ("cameraId") REFERENCES "Camera" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Alert_assignedUnitId_fkey" FOREIGN KEY ("assignedUnitId") REFERENCES "PatrolUnit" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "PatrolUnit" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "callSign" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'AVAILABLE',
    "latitude" REAL,
    "longitude" REAL,
    "positionAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "User" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "username" TEXT NOT NULL,
    "passwordHash" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "unitId" TEXT,
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "failedLogins" INTEGER NOT NULL DEFAULT 0,
    "lockedUntil" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "User_unitId_fkey" FOREIGN KEY ("unitId") REFERENCES "PatrolUnit" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Session" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "userId" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" DATETIME NOT NULL,
    "revokedAt" DATETIME,
    CONSTRAINT "Session_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "AuditEvent" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actorType" TEXT NOT NULL,
    "actorId" TEXT,
    "actorRole" TEXT,
    "action" TEXT NOT NULL,
    "subjectType" TEXT NOT NULL,
    "subjectId" TEXT,
    "details" TEXT
);

-- CreateIndex
CREATE UNIQUE INDEX "Camera_apiKeyHash_key" ON "Camera"("apiKeyHash");

-- CreateIndex
CREATE INDEX "Camera_zone_idx" ON "Camera"("zone");

-- CreateIndex
CREATE INDEX "Violation_cameraId_capturedAt_idx" ON "Violation"("cameraId", "capturedAt");

-- CreateIndex
CREATE INDEX "Violation_capturedAt_idx" ON "Violation"("capturedAt");

-- CreateIndex
CREATE INDEX "Violation_alertId_idx" ON "Violation"("alertId");

-- CreateIndex
CREATE UNIQUE INDEX "Violation_frameId_faceIndex_key" ON "Violation"("frameId", "faceIndex");

-- CreateIndex
CREATE INDEX "Alert_status_createdAt_idx" ON "Alert"("status", "createdAt");

-- CreateIndex
CREATE INDEX "Alert_cameraId_createdAt_idx" ON "Alert"("cameraId", "createdAt");

-- CreateIndex
CREATE INDEX "Alert_assignedUnitId_status_idx" ON "Alert"("assignedUnitId", "status");

-- CreateIndex
CREATE UNIQUE INDEX "Alert_cameraId_trackId_key" ON "Alert"("cameraId", "trackId");

-- CreateIndex
CREATE UNIQUE INDEX "PatrolUnit_callSign_key" ON "PatrolUnit"("callSign");

-- CreateIndex
CREATE UNIQUE INDEX "User_username_key" ON "User"("username");

-- CreateIndex
CREATE UNIQUE INDEX "Session_tokenHash_key" ON "Session"("tokenHash");

-- CreateIndex
CREATE INDEX "Session_userId_idx" ON "Session"("userId");

-- CreateIndex
CREATE INDEX "AuditEvent_subjectType_subjectId_idx" ON "AuditEvent"("subjectType", "subjectId");

-- CreateIndex
CREATE INDEX "AuditEvent_at_idx" ON "AuditEvent"("at");
