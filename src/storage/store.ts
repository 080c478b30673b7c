// The asset store interface shared by every store (kept apart from index.ts so store modules import it
// without an import cycle).
export type StoreType = 's3' | 'gs' | 'oss' | 'azure';
export const STORE_TYPES: StoreType[] = ['s3', 'gs', 'oss', 'azure'];

/** A customer's storage configuration, normalized from the template's or the room's shape. */
export interface UploadTarget {
  type: StoreType;
  /** bucket (Azure: container) */
  location: string;
  /** key prefix without leading/trailing slashes; defaults to the customer id */
  prefix: string;
  region?: string;
  /** S3-compatible endpoint (path-style addressing); Azure: the blob service URL */
  endpoint?: string;
  /** access key id (Azure: storage account name) */
  key?: string;
  /** secret access key (Azure: account key) */
  secret?: string;
  /** the server's own STORAGE_URL store: its endpoint is the operator's (may be private), not a user's */
  operator?: boolean;
}

export interface UploadOptions {
  /** a multipart upload started by an earlier attempt: parts already stored are not sent again */
  resumeId?: string | null;
  /** called when a multipart upload starts (its id) and when it is complete (null) */
  onResumeId?: (id: string | null) => Promise<void>;
  /** bytes sent so far */
  onProgress?: (bytes: number) => void;
  /** aborts the upload (server shutdown) */
  signal?: AbortSignal;
  /** leading ranges of the file already in the store, in order from byte 0 (S3: each of at least 5 MiB); others ignore it */
  storedRanges?: StoredRange[];
}

export interface StoredObject {
  key: string;
  size: number;
  /** S3: the object's ETag (the MD5 of its bytes for a single PUT) */
  etag?: string;
}

/** A range of the file to upload that the store already holds as an object of its own (copied there, not sent). */
export interface StoredRange {
  key: string;
  offset: number;
  size: number;
}

export interface AssetStore {
  readonly type: StoreType | 'local';
  /** the reference-style path: s3://<location>/<key> (scheme = upload type) */
  pathOf(key: string): string;
  /** stores the file under key and confirms the stored size; multipart for large files */
  upload(key: string, file: string, opts?: UploadOptions): Promise<{ size: number }>;
  /** a download URL signed by the store itself */
  presign(key: string, seconds: number): Promise<{ url: string; expiry: number }>;
  delete(key: string): Promise<void>;
  /** stores a small object from memory (a recording's parts streamed while it records) */
  putBytes(key: string, body: Buffer): Promise<void>;
  /** the objects under a key prefix, in key order */
  list(prefix: string): Promise<StoredObject[]>;
  /** a small object's bytes */
  getBytes(key: string): Promise<Buffer>;
  /** releases connections */
  close(): void;
}

/** The storage configuration cannot work (missing fields, refused credentials, no such bucket). */
export class StoreConfigError extends Error {}

/** Presigned URL validity when the caller gives none (reference §3.1): 3 days, 9 h for OSS. */
export function defaultPresignSeconds(type: StoreType | 'local'): number {
  return type === 'oss' ? 9 * 3600 : 3 * 86400;
}

/** SigV4 presigned URLs are valid for at most 7 days; Azure SAS has no such cap but we keep one rule. */
export const MAX_PRESIGN_SECONDS = 7 * 86400;

export function contentTypeOf(key: string): string {
  if (key.endsWith('.mp4')) return 'video/mp4';
  if (key.endsWith('.m3u8')) return 'application/vnd.apple.mpegurl';
  if (key.endsWith('.ts')) return 'video/mp2t';
  if (key.endsWith('.csv')) return 'text/csv';
  if (key.endsWith('.json')) return 'application/json';
  if (key.endsWith('.zip')) return 'application/zip';
  return 'application/octet-stream';
}
