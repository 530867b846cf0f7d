-- The column always held P(no mask): renamed to say so. A rename, not Prisma's
-- drop + add, so stored probabilities are kept.
ALTER TABLE "Alert" RENAME COLUMN "maskProbability" TO "noMaskProbability";
ALTER TABLE "Violation" RENAME COLUMN "maskProbability" TO "noMaskProbability";
