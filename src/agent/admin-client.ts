/** The few admin API calls the simulator needs: log in, register cameras. */
import type { CameraInput } from '../contracts/api.ts';

export class AdminApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'AdminApiError';
  }
}

/** Fields the admin API may answer with; each caller checks the ones it needs at run time. */
interface AdminApiBody {
  token?: string;
  id?: string;
  apiKey?: string;
  detail?: string;
  /** GET /api/v1/auth/sign-in-notice. */
  text?: string | null;
  version?: string | null;
}

async function json(res: Response): Promise<AdminApiBody> {
  const text = await res.text();
  try {
    return JSON.parse(text) as AdminApiBody;
  } catch {
    return { detail: text.slice(0, 200) };
  }
}

/**
 * Signs in as an admin. A server with a sign-in notice is told the version of it that `showNotice` showed
 * (the command line prints it, as SSH prints a login banner).
 */
export async function login(
  server: string,
  username: string,
  password: string,
  doFetch: typeof fetch = fetch,
  showNotice: (text: string) => void = (text) => process.stderr.write(`${text}\n\n`),
): Promise<string> {
  const notice = await json(await doFetch(new URL('/api/v1/auth/sign-in-notice', server)));
  const noticeVersion = notice.text && notice.version ? notice.version : undefined;
  if (noticeVersion) showNotice(notice.text!);
  const res = await doFetch(new URL('/api/v1/auth/login', server), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password, ...(noticeVersion ? { noticeVersion } : {}) }),
  });
  const body = await json(res);
  if (res.status !== 200 || typeof body.token !== 'string') {
    throw new AdminApiError(res.status, `login as "${username}" failed (${res.status}): ${body.detail ?? JSON.stringify(body)}`);
  }
  return body.token;
}

export async function createCamera(server: string, token: string, camera: CameraInput, doFetch: typeof fetch = fetch): Promise<{ id: string; apiKey: string }> {
  const res = await doFetch(new URL('/api/v1/cameras', server), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(camera),
  });
  const body = await json(res);
  if (res.status !== 201 || typeof body.apiKey !== 'string') {
    throw new AdminApiError(res.status, `creating camera "${camera.name}" failed (${res.status}): ${body.detail ?? JSON.stringify(body)}`);
  }
  return { id: String(body.id), apiKey: body.apiKey };
}

/** Virtual cameras spread on a small grid around a centre, so the dashboard map shows them apart. */
export function virtualCamera(index: number, centre = { latitude: 40.4168, longitude: -3.7038 }, runId = ''): CameraInput {
  const side = 10;
  return {
    name: `sim-${runId ? runId + '-' : ''}${String(index + 1).padStart(3, '0')}`,
    latitude: centre.latitude + (Math.floor(index / side) - side / 2) * 0.002,
    longitude: centre.longitude + ((index % side) - side / 2) * 0.002,
    address: `virtual camera ${index + 1}`,
    zone: `sim-${Math.floor(index / side) + 1}`,
  };
}

/** API keys from a file: one per line; blank lines and # comments ignored. */
export function parseKeysFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}
