// Local disk storage (the default): assets under DATA_DIR/assets/<key>, served by this server through
// URLs signed with an expiry (HMAC over key + expiry), with HTTP range support, and a retention sweep.
import { mkdirSync, renameSync, copyFileSync, unlinkSync, existsSync, statSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import { UrlSignature } from './urlSignature.js';

export const LOCAL_LOCATION = 'roomcast';

export class LocalStorage {
  readonly root: string;
  private readonly signature: UrlSignature;

  constructor(
    dataDir: string,
    appSecret: string,
    /** read at signing time: the port may be picked after start */
    private readonly publicUrl: () => string,
  ) {
    this.root = join(dataDir, 'assets');
    mkdirSync(this.root, { recursive: true });
    this.signature = new UrlSignature(appSecret, 'roomcast local asset urls');
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

  /** Writes a small object from memory. */
  write(key: string, body: Buffer): void {
    const file = this.fileOf(key);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, body);
  }

  /** Keys (with sizes) of the files under a key prefix, in key order. */
  list(prefix: string): { key: string; size: number }[] {
    const out: { key: string; size: number }[] = [];
    const walk = (dir: string, rel: string) => {
      if (!existsSync(dir)) return;
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const key = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) walk(join(dir, e.name), key);
        else if (key.startsWith(prefix)) out.push({ key, size: statSync(join(dir, e.name)).size });
      }
    };
    // walk from the deepest whole directory of the prefix
    const base = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    walk(base ? this.fileOf(base) : this.root, base);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  exists(key: string): boolean {
    return existsSync(this.fileOf(key));
  }

  remove(key: string): void {
    const file = this.fileOf(key);
    if (existsSync(file)) unlinkSync(file);
  }

  presign(key: string, seconds: number, nowMs = Date.now()): { url: string; expiry: number } {
    const expires = Math.floor(nowMs / 1000) + seconds;
    const path = key.split('/').map(encodeURIComponent).join('/');
    return { url: `${this.publicUrl()}/assets/${path}?expires=${expires}&sig=${this.signature.sign(key, expires)}`, expiry: seconds };
  }

  /** Why a signed request is refused, or null when it is good. */
  checkSignature(key: string, expires: string | undefined, sig: string | undefined, nowMs = Date.now()): string | null {
    if (!expires || !sig || !/^\d+$/.test(expires)) return 'missing or malformed signature';
    return this.signature.refusal(key, expires, sig, nowMs);
  }
}

/** Key of a composite recording (reference §3.4): <prefix>/beam/<room_id>/<YYYYMMDD>/Rec-<room_id>-<epoch ms>.mp4 */
export function beamKey(prefix: string, roomId: string, startedAtMs: number): string {
  const d = new Date(startedAtMs).toISOString().slice(0, 10).replace(/-/g, '');
  return `${prefix}/beam/${roomId}/${d}/Rec-${roomId}-${startedAtMs}.mp4`;
}
