import { existsSync } from 'node:fs';
import path from 'node:path';

/** Everything MaskWatch reads from the environment, parsed and validated once at start. */
export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  redisUrl: string;
  dataDir: string;
  /** Folder holding third-party datasets and weights (../shared here). */
  assetsDir: string;
  logLevel: string;
  admin: { username: string; password: string } | null;
  vision: {
    /** Minimum face detector score. */
    faceScoreThreshold: number;
    /** P(no mask) at or above which a face is a violation. */
    noMaskThreshold: number;
    /** Faces smaller than this (shorter side, px) are ignored. */
    minFaceSize: number;
    intraOpThreads: number;
  };
  ingest: {
    maxFrameBytes: number;
    maxFramePixels: number;
    /** Frames waiting per camera above which ingestion answers 503. */
    maxCameraBacklog: number;
  };
  alerts: {
    /** A track unseen this long ends; the same person later is a new alert. */
    cooldownSeconds: number;
  };
  tokenTtlSeconds: number;
}

export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

function num(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(name, `must be a number between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

function url(env: Env, name: string, fallback: string, protocols: string[]): string {
  const raw = env[name] || fallback;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, `is not a valid URL: "${raw}"`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must start with ${protocols.join(' or ')} (got "${parsed.protocol}")`);
  }
  return raw;
}

/** Default assets folder: ../shared beside the project root, when it exists. */
export function defaultAssetsDir(cwd = process.cwd()): string {
  return path.resolve(cwd, '..', 'shared');
}

export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const dataDir = path.resolve(cwd, env.MASKWATCH_DATA_DIR || 'data');
  const assetsDir = path.resolve(cwd, env.MASKWATCH_ASSETS || defaultAssetsDir(cwd));
  if (env.MASKWATCH_ASSETS && !existsSync(assetsDir)) {
    throw new ConfigError('MASKWATCH_ASSETS', `folder does not exist: ${assetsDir}`);
  }
  const databaseUrl = url(env, 'DATABASE_URL', `file:${path.join(dataDir, 'maskwatch.db')}`, [
    'file:',
    'postgresql:',
    'postgres:',
  ]);
  const adminUser = env.MASKWATCH_ADMIN_USER;
  const adminPassword = env.MASKWATCH_ADMIN_PASSWORD;
  if (adminUser && !adminPassword) {
    throw new ConfigError('MASKWATCH_ADMIN_PASSWORD', 'is required when MASKWATCH_ADMIN_USER is set');
  }
  if (adminPassword !== undefined && adminPassword.length < 12) {
    throw new ConfigError('MASKWATCH_ADMIN_PASSWORD', 'must be at least 12 characters');
  }
  const logLevel = env.LOG_LEVEL || 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `unknown level "${logLevel}"`);
  }
  return {
    port: int(env, 'PORT', 3000, 0, 65535),
    host: env.HOST || '127.0.0.1',
    databaseUrl,
    redisUrl: url(env, 'REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']),
    dataDir,
    assetsDir,
    logLevel,
    admin: adminUser && adminPassword ? { username: adminUser, password: adminPassword } : null,
    vision: {
      faceScoreThreshold: num(env, 'MASKWATCH_FACE_SCORE', 0.6, 0, 1),
      noMaskThreshold: num(env, 'MASKWATCH_NO_MASK_THRESHOLD', 0.5, 0, 1),
      minFaceSize: int(env, 'MASKWATCH_MIN_FACE_PX', 12, 1, 4096),
      intraOpThreads: int(env, 'MASKWATCH_INTRA_OP_THREADS', 1, 1, 64),
    },
    ingest: {
      maxFrameBytes: int(env, 'MASKWATCH_MAX_FRAME_BYTES', 8 * 1024 * 1024, 1024, 512 * 1024 * 1024),
      maxFramePixels: int(env, 'MASKWATCH_MAX_FRAME_PIXELS', 40_000_000, 1, 1_000_000_000),
      maxCameraBacklog: int(env, 'MASKWATCH_MAX_CAMERA_BACKLOG', 200, 1, 1_000_000),
    },
    alerts: {
      cooldownSeconds: int(env, 'MASKWATCH_ALERT_COOLDOWN_S', 60, 1, 86_400),
    },
    tokenTtlSeconds: int(env, 'MASKWATCH_TOKEN_TTL_S', 12 * 3600, 60, 30 * 86_400),
  };
}
