-- CreateTable
CREATE TABLE "AuditSeal" (
    "seq" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "sealedAt" DATETIME NOT NULL,
    "fromAt" DATETIME NOT NULL,
    "toAt" DATETIME NOT NULL,
    "toId" TEXT NOT NULL,
    "count" INTEGER NOT NULL,
    "hash" TEXT NOT NULL,
    "mac" TEXT NOT NULL,
    "prunedAt" DATETIME
);
