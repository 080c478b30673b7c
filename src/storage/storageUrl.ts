// The server's own default store, STORAGE_URL (a fleet's shared bucket): `s3://bucket/prefix` (also gs://,
// oss://, azure://container/prefix) with STORAGE_ENDPOINT, STORAGE_REGION, STORAGE_ACCESS_KEY_ID and
// STORAGE_SECRET_ACCESS_KEY. Recordings of rooms with no store of their own (room, then template) go there
// instead of staying on this disk. Its endpoint is the operator's, so it may be a private address.
import { STORE_TYPES, type StoreType, type UploadTarget } from './store.js';

export interface StorageUrlSettings {
  url?: string;
  endpoint?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
}

/** The target STORAGE_URL names, null when unset; a clear Error for a malformed one (the server does not start). */
export function storageUrlTarget(s: StorageUrlSettings): UploadTarget | null {
  if (!s.url) return null;
  const m = /^([a-z0-9]+):\/\/([^/?#]+)(?:\/([^?#]*))?$/.exec(s.url);
  if (!m) throw new Error(`STORAGE_URL must look like s3://bucket/prefix, got ${JSON.stringify(s.url)}`);
  const [, scheme, location, path] = m;
  if (!STORE_TYPES.includes(scheme as StoreType)) throw new Error(`STORAGE_URL scheme must be one of ${STORE_TYPES.join(', ')}, got ${scheme}`);
  if (!!s.accessKeyId !== !!s.secretAccessKey) throw new Error('STORAGE_ACCESS_KEY_ID and STORAGE_SECRET_ACCESS_KEY go together');
  if (scheme === 'azure' && !s.accessKeyId) throw new Error('an azure:// STORAGE_URL needs STORAGE_ACCESS_KEY_ID (account) and STORAGE_SECRET_ACCESS_KEY (account key)');
  if (s.endpoint) {
    let u: URL;
    try {
      u = new URL(s.endpoint);
    } catch {
      throw new Error(`STORAGE_ENDPOINT must be an http(s) URL, got ${JSON.stringify(s.endpoint)}`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`STORAGE_ENDPOINT must be an http(s) URL, got ${JSON.stringify(s.endpoint)}`);
  }
  return {
    type: scheme as StoreType,
    location,
    // empty: the customer id, as for any store (storage/index.ts)
    prefix: (path ?? '').replace(/^\/+|\/+$/g, ''),
    region: s.region || undefined,
    endpoint: s.endpoint || undefined,
    key: s.accessKeyId || undefined,
    secret: s.secretAccessKey || undefined,
    operator: true,
  };
}
