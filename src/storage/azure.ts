// Azure Blob Storage through its SDK: `location` is the container, `credentials.key` the storage account name,
// `credentials.secretKey` the account key; options.endpoint overrides the service URL
// (https://<account>.blob.core.windows.net), e.g. http://127.0.0.1:10000/devstoreaccount1 for Azurite.
// Large files go up as 8 MiB blocks, 3 at a time; presigned URLs are read-only blob SAS URLs.
import { stat } from 'node:fs/promises';
import { BlobSASPermissions, BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { MAX_PRESIGN_SECONDS, StoreConfigError, contentTypeOf, type AssetStore, type StoredObject, type UploadOptions, type UploadTarget } from './store.js';

const MiB = 1024 * 1024;
const BLOCK_SIZE = 8 * MiB;
const SINGLE_SHOT_MAX = 16 * MiB;

export function azureServiceUrl(t: UploadTarget): string {
  return t.endpoint ? t.endpoint.replace(/\/+$/, '') : `https://${t.key}.blob.core.windows.net`;
}

export class AzureAssetStore implements AssetStore {
  readonly type = 'azure' as const;
  private readonly container: ContainerClient;

  constructor(private readonly target: UploadTarget) {
    if (!target.key || !target.secret) throw new StoreConfigError('azure needs credentials.key (storage account name) and credentials.secretKey (account key)');
    const credential = new StorageSharedKeyCredential(target.key, target.secret);
    // the upload manager retries with its own backoff
    const service = new BlobServiceClient(azureServiceUrl(target), credential, { retryOptions: { maxTries: 2 } });
    this.container = service.getContainerClient(target.location);
  }

  pathOf(key: string): string {
    return `azure://${this.target.location}/${key}`;
  }

  async upload(key: string, file: string, opts: UploadOptions = {}): Promise<{ size: number }> {
    const { size } = await stat(file);
    const blob = this.container.getBlockBlobClient(key);
    await blob.uploadFile(file, {
      blockSize: BLOCK_SIZE,
      maxSingleShotSize: SINGLE_SHOT_MAX,
      concurrency: 3,
      blobHTTPHeaders: { blobContentType: contentTypeOf(key) },
      onProgress: (p) => opts.onProgress?.(p.loadedBytes),
      abortSignal: opts.signal,
    });
    const props = await blob.getProperties({ abortSignal: opts.signal });
    if (Number(props.contentLength) !== size) throw new Error(`the store holds ${String(props.contentLength)} bytes of ${key}, expected ${size}`);
    return { size };
  }

  async presign(key: string, seconds: number): Promise<{ url: string; expiry: number }> {
    const expiry = Math.min(Math.max(1, Math.floor(seconds)), MAX_PRESIGN_SECONDS);
    const url = await this.container.getBlobClient(key).generateSasUrl({
      permissions: BlobSASPermissions.parse('r'),
      expiresOn: new Date(Date.now() + expiry * 1000),
    });
    return { url, expiry };
  }

  async delete(key: string): Promise<void> {
    await this.container.getBlobClient(key).deleteIfExists();
  }

  async putBytes(key: string, body: Buffer): Promise<void> {
    await this.container.getBlockBlobClient(key).uploadData(body, { blobHTTPHeaders: { blobContentType: contentTypeOf(key) } });
  }

  async list(prefix: string): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    for await (const b of this.container.listBlobsFlat({ prefix })) out.push({ key: b.name, size: Number(b.properties.contentLength ?? 0) });
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async getBytes(key: string): Promise<Buffer> {
    return this.container.getBlobClient(key).downloadToBuffer();
  }

  close(): void {
    /* the SDK's HTTP client keeps no handles that need closing */
  }
}
