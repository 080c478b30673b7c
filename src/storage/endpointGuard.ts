// A storage options.endpoint is a host the server connects to with the customer's credentials: like a
// webhook target it may not be loopback, a private network or cloud metadata unless STORAGE_ALLOW_PRIVATE
// (MinIO or Azurite next to the server). Checked when a template or room is saved and again before every
// upload or delete (the name may resolve elsewhere by then).
import { isIP } from 'node:net';
import { invalidInput } from '../domain/errors.js';
import { isPrivateAddress, RefusedTarget, resolvePublic } from '../net/addressGuard.js';
import { StoreConfigError, type AssetStore, type UploadTarget } from './store.js';
import { s3Addressing } from './s3.js';
import { azureServiceUrl } from './azure.js';

const SETTING = 'STORAGE_ALLOW_PRIVATE';
const SAVE_LOOKUP_TIMEOUT_MS = 3000;

/** Throws StoreConfigError when the endpoint is not http(s) or resolves to a refused address. */
export async function checkStorageEndpoint(endpoint: string, allowPrivate: boolean): Promise<void> {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new StoreConfigError('options.endpoint is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new StoreConfigError('options.endpoint must be http(s)');
  if (allowPrivate) return;
  try {
    await resolvePublic(url, false, SETTING);
  } catch (err) {
    if (err instanceof RefusedTarget) throw new StoreConfigError(`storage endpoint ${err.message}`);
    throw err;
  }
}

/**
 * Save-time check for an API body: a refused endpoint is a 400. A name that does not resolve from here is
 * accepted (the store may be reachable only later); the upload-time check refuses it if it turns out private.
 */
export async function refusePrivateEndpoint(endpoint: string | undefined, allowPrivate: boolean, field: string): Promise<void> {
  if (!endpoint || allowPrivate) return;
  let host: string;
  try {
    host = new URL(endpoint).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return; // the schema reports malformed URLs
  }
  const refuse = (why: string) => {
    throw invalidInput('Storage endpoint not allowed', `${field} ${why}: storage endpoints on loopback/private/link-local addresses need ${SETTING}=true`);
  };
  if (isIP(host)) {
    if (isPrivateAddress(host)) refuse(`is ${host}`);
    return;
  }
  // a resolver that does not answer must not hold the request: undecided counts as a lookup failure
  let timer: NodeJS.Timeout | undefined;
  const undecided = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, SAVE_LOOKUP_TIMEOUT_MS);
  });
  try {
    await Promise.race([checkStorageEndpoint(endpoint, false), undecided]);
  } catch (err) {
    if (err instanceof StoreConfigError) refuse(`resolves to a refused address (${err.message})`);
    // lookup failures: accepted here, see above
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The URL a store client connects to when it is built from user input: options.endpoint, or a default made
 * from the account name (Azure) or region (OSS) — "x@169.254.169.254/" there would name another host.
 * undefined: AWS's own endpoints (the SDK validates the region).
 */
export function effectiveEndpoint(t: UploadTarget): string | undefined {
  try {
    return t.type === 'azure' ? azureServiceUrl(t) : s3Addressing(t).endpoint;
  } catch {
    return undefined; // an invalid configuration: the store client refuses it
  }
}

/** The store with its endpoint checked before each operation that connects (presigning does not). */
export function guardedStore(store: AssetStore, target: UploadTarget, allowPrivate: boolean): AssetStore {
  const endpoint = effectiveEndpoint(target);
  if (!endpoint || allowPrivate) return store;
  return {
    type: store.type,
    pathOf: (key) => store.pathOf(key),
    async upload(key, file, opts) {
      await checkStorageEndpoint(endpoint, false);
      return store.upload(key, file, opts);
    },
    presign: (key, seconds) => store.presign(key, seconds),
    async delete(key) {
      await checkStorageEndpoint(endpoint, false);
      return store.delete(key);
    },
    async putBytes(key, body) {
      await checkStorageEndpoint(endpoint, false);
      return store.putBytes(key, body);
    },
    async list(prefix) {
      await checkStorageEndpoint(endpoint, false);
      return store.list(prefix);
    },
    async getBytes(key) {
      await checkStorageEndpoint(endpoint, false);
      return store.getBytes(key);
    },
    close: () => store.close(),
  };
}
