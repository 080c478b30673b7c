// Asset stores behind one interface: this server's disk (local.ts), S3 and the S3-compatible GCS / Alibaba OSS
// (s3.ts), Azure Blob (azure.ts). Which store a recording goes to: the room's recording_info.upload_info, else
// the room's template settings.recording.upload, else the server's STORAGE_URL (storageUrl.ts), else this disk (reference §6.3).
import { readFileSync } from 'node:fs';
import type { UploadConfig } from '../model/templates.js';
import type { LocalStorage } from './local.js';
import { S3AssetStore } from './s3.js';
import { AzureAssetStore } from './azure.js';
import { guardedStore } from './endpointGuard.js';
import { StoreConfigError, STORE_TYPES, type AssetStore, type StoreType, type UploadTarget } from './store.js';

export * from './store.js';

function cleanPrefix(prefix: string | undefined, customerId: string): string {
  const p = (prefix ?? '').replace(/^\/+|\/+$/g, '');
  return p || customerId;
}

function typeOf(t: unknown): StoreType {
  if (!STORE_TYPES.includes(t as StoreType)) throw new StoreConfigError(`upload type ${String(t)} is not one of ${STORE_TYPES.join(', ')}`);
  return t as StoreType;
}

/** Room `recording_info.upload_info` → target (its secret is `credentials.secret`, reference §6.3). */
export interface RoomUploadInfo {
  type?: string;
  location?: string;
  prefix?: string;
  options?: { region?: string; endpoint?: string };
  credentials?: { key?: string; secret?: string; secretKey?: string };
}
export function targetFromRoom(u: RoomUploadInfo, customerId: string): UploadTarget {
  return {
    type: typeOf(u.type),
    location: u.location ?? '',
    prefix: cleanPrefix(u.prefix, customerId),
    region: u.options?.region || undefined,
    endpoint: u.options?.endpoint || undefined,
    key: u.credentials?.key || undefined,
    secret: u.credentials?.secret || u.credentials?.secretKey || undefined,
  };
}

/** Template `settings.recording.upload` → target: the same fields, its secret is `credentials.secretKey`. */
export function targetFromTemplate(u: UploadConfig, customerId: string): UploadTarget {
  return targetFromRoom(u, customerId);
}

/** Where an asset goes in the customer's store: the local key's path after the customer id, under the target's prefix. */
export function remoteKeyOf(target: UploadTarget, localKey: string, customerId: string): string {
  const rest = localKey.startsWith(`${customerId}/`) ? localKey.slice(customerId.length + 1) : localKey;
  return `${target.prefix}/${rest}`;
}

/** A store client; a custom endpoint is checked against private addresses before each connection unless `allowPrivateEndpoint`. */
export function storeFor(t: UploadTarget, opts: { allowPrivateEndpoint?: boolean } = {}): AssetStore {
  if (!t.location) throw new StoreConfigError('upload location (bucket / container) is missing');
  const store = t.type === 'azure' ? new AzureAssetStore(t) : new S3AssetStore(t);
  return guardedStore(store, t, opts.allowPrivateEndpoint ?? false);
}

/** The local disk as an AssetStore (presigned URLs are this server's signed /assets URLs). */
export function localAssetStore(ls: LocalStorage): AssetStore {
  return {
    type: 'local',
    pathOf: (key) => ls.pathOf(key),
    async upload(key, file) {
      return { size: ls.put(key, file).size };
    },
    async presign(key, seconds) {
      return ls.presign(key, seconds);
    },
    async delete(key) {
      ls.remove(key);
    },
    async putBytes(key, body) {
      ls.write(key, body);
    },
    async list(prefix) {
      return ls.list(prefix);
    },
    async getBytes(key) {
      return readFileSync(ls.fileOf(key));
    },
    close() {},
  };
}

/**
 * True when retrying cannot help until the configuration changes: refused credentials, missing bucket or
 * container, invalid fields. Network errors and 5xx answers are not (the store may come back).
 */
export function isConfigError(err: unknown): boolean {
  if (err instanceof StoreConfigError) return true;
  const e = err as { name?: string; code?: string; Code?: string; statusCode?: number; $metadata?: { httpStatusCode?: number } };
  const names = [e?.Code, e?.code, e?.name];
  const config = ['CredentialsProviderError', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'NoSuchBucket', 'InvalidBucketName', 'AuthorizationFailure', 'AuthenticationFailed', 'ContainerNotFound', 'InvalidResourceName', 'AuthorizationPermissionMismatch'];
  if (names.some((n) => n !== undefined && config.includes(n))) return true;
  const status = e?.$metadata?.httpStatusCode ?? e?.statusCode;
  return status === 401 || status === 403;
}

/** A short reason for logs and the asset row; never includes credentials. */
export function describeStoreError(err: unknown): string {
  const e = err as { name?: string; code?: string; Code?: string; message?: string; statusCode?: number; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode ?? e?.statusCode;
  const name = e?.Code ?? e?.code ?? e?.name ?? 'Error';
  const msg = (e?.message ?? String(err)).split('\n')[0].slice(0, 300);
  return `${name}${status ? ` (HTTP ${status})` : ''}: ${msg}`;
}
