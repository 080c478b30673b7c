// Local disk storage (the default): assets under DATA_DIR/assets/<key>, served by this server through
// URLs signed with an expiry (HMAC over key + expiry), with HTTP range support, and a retention sweep.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdirSync, renameSync, copyFileSync, unlinkSync, existsSync, statSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';

export const LOCAL_LOCATION = 'roomcast';

export class LocalStorage {
  readonly root: string;
  private readonly signingKey: Buffer;

  constructor(
    dataDir: string,
    appSecret: string,
    /** read at signing time: the port may be picked after start */
    private readonly publicUrl: () => string,
  ) {
    this.root = join(dataDir, 'assets');
    mkdirSync(this.root, { recursive: true });
    // A key of its own, derived from the app secret, so a URL signature says nothing about the secret.
    this.signingKey = createHmac('sha256', appSecret).update('roomcast local asset urls').digest();
  }

  /** Absolute file path of a key; refuses keys that climb out of the root. */
  fileOf(key: string): string {
    const p = normalize(join(this.root, key));
    if (!p.startsWith(this.root + sep)) throw new Error(`storage key escapes the asset root: ${key}`);
    return p;
  }

  /** The reference-style path of an asset: local://roomcast/<key>. */
  pathOf(key: string): string {
    return `local://${LOCAL_LOCATION}/${key}`;
  }

  /** Moves a finished file into the store (same filesystem: a rename, no copy of the bytes). */
  put(key: string, sourceFile: string): { file: string; size: number } {
    const file = this.fileOf(key);
    mkdirSync(dirname(file), { recursive: true });
    try {
      renameSync(sourceFile, file);
    } catch {
      copyFileSync(sourceFile, file);
      unlinkSync(sourceFile);
    }
    return { file, size: statSync(file).size };
  }

  exists(key: string): boolean {
    return existsSync(this.fileOf(key));
  }

  remove(key: string): void {
    const file = this.fileOf(key);
    if (existsSync(file)) unlinkSync(file);
  }

  private sign(key: string, expires: number): string {
    return createHmac('sha256', this.signingKey).update(`${key}\n${expires}`).digest('base64url');
  }

  presign(key: string, seconds: number, nowMs = Date.now()): { url: string; expiry: number } {
    const expires = Math.floor(nowMs / 1000) + seconds;
    const path = key.split('/').map(encodeURIComponent).join('/');
    return { url: `${this.publicUrl()}/assets/${path}?expires=${expires}&sig=${this.sign(key, expires)}`, expiry: seconds };
  }

  /** Why a signed request is refused, or null when it is good. */
  checkSignature(key: string, expires: string | undefined, sig: string | undefined, nowMs = Date.now()): string | null {
    if (!expires || !sig || !/^\d+$/.test(expires)) return 'missing or malformed signature';
    const want = Buffer.from(this.sign(key, Number(expires)));
    const got = Buffer.from(sig);
    if (want.length !== got.length || !timingSafeEqual(want, got)) return 'signature does not match';
    if (Number(expires) * 1000 < nowMs) return 'URL expired';
    return null;
  }
}

/** Key of a composite recording (reference §3.4): <prefix>/beam/<room_id>/<YYYYMMDD>/Rec-<room_id>-<epoch ms>.mp4 */
export function beamKey(prefix: string, roomId: string, startedAtMs: number): string {
  const d = new Date(startedAtMs).toISOString().slice(0, 10).replace(/-/g, '');
  return `${prefix}/beam/${roomId}/${d}/Rec-${roomId}-${startedAtMs}.mp4`;
}
