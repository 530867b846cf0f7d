-- CreateTable
CREATE TABLE "AuditSeal" (
    "seq" INTEGER NOT NULL,
    "sealedAt" TIMESTAMP(3) NOT NULL,
    "fromAt" TIMESTAMP(3) NOT NULL,
    "toAt" TIMESTAMP(3) NOT NULL,
    "toId" TEXT NOT NULL,
    "count" INTEGER NOT NULL,
    "hash" TEXT NOT NULL,
    "mac" TEXT NOT NULL,
    "prunedAt" TIMESTAMP(3),

    CONSTRAINT "AuditSeal_pkey" PRIMARY KEY ("seq")
);
