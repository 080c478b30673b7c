// S3 and the S3-compatible interfaces of Google Cloud Storage (XML API with HMAC keys) and Alibaba OSS, through
// one AWS SDK v3 code path: only the endpoint, region and addressing style differ.
//   s3  → AWS (virtual-hosted), or options.endpoint with path-style addressing (MinIO, Swift, Ceph, …)
//   gs  → https://storage.googleapis.com, path-style, region "auto" unless given
//   oss → https://oss-<region>.aliyuncs.com, virtual-hosted (<bucket>.oss-<region>.aliyuncs.com), SigV4 region <region>
// Large files go up in parts (CreateMultipartUpload / UploadPart / Complete), read from disk part by part;
// a retry lists the parts already stored and sends only the missing ones.
import { createHash } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { MAX_PRESIGN_SECONDS, StoreConfigError, contentTypeOf, type AssetStore, type StoredObject, type StoredRange, type UploadOptions, type UploadTarget } from './store.js';

// roomcast runs on Node 20 (package.json engines) with a pinned SDK; the SDK's notice that its future releases
// will need Node 22 would otherwise print on every start
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const MiB = 1024 * 1024;
/** Files up to this size go up in one PUT. */
export const MULTIPART_THRESHOLD = 16 * MiB;
/** 8 MiB parts (S3 minimum is 5 MiB), larger when a file would need more than 9,000 parts (limit 10,000). */
export const PART_SIZE = 8 * MiB;
const PART_CONCURRENCY = 3;
/** S3's smallest part but the last */
const MIN_PART_SIZE = 5 * MiB;

export const GCS_ENDPOINT = 'https://storage.googleapis.com';

/** Endpoint, SigV4 region and addressing of a target. */
export function s3Addressing(t: UploadTarget): { endpoint?: string; region: string; forcePathStyle: boolean } {
  switch (t.type) {
    case 'gs':
      return { endpoint: t.endpoint ?? GCS_ENDPOINT, region: t.region ?? 'auto', forcePathStyle: true };
    case 'oss': {
      // "cn-hangzhou" and "oss-cn-hangzhou" are both seen in the wild; the SigV4 region is the bare id
      const id = (t.region ?? '').replace(/^oss-/, '');
      if (!id && !t.endpoint) throw new StoreConfigError('options.region is required for oss (e.g. cn-hangzhou)');
      // OSS serves buckets on virtual-hosted names only
      return { endpoint: t.endpoint ?? `https://oss-${id}.aliyuncs.com`, region: id || 'oss', forcePathStyle: false };
    }
    default:
      // an explicit endpoint means an S3-compatible store: path-style, the form they all support
      return { endpoint: t.endpoint, region: t.region ?? 'us-east-1', forcePathStyle: !!t.endpoint };
  }
}

export function s3ClientConfig(t: UploadTarget): S3ClientConfig {
  const { endpoint, region, forcePathStyle } = s3Addressing(t);
  if ((t.key && !t.secret) || (!t.key && t.secret)) throw new StoreConfigError('credentials need both key and secret');
  // without credentials, AWS S3 uses the SDK's default chain (environment, profile, instance role)
  if (!t.key && t.type !== 's3') throw new StoreConfigError(`credentials (key and secret) are required for ${t.type}`);
  return {
    region,
    endpoint,
    forcePathStyle,
    credentials: t.key && t.secret ? { accessKeyId: t.key, secretAccessKey: t.secret } : undefined,
    // GCS, OSS and most S3-compatible stores refuse the SDK's default streaming checksums
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // the upload manager retries with its own backoff; the SDK tries once more at most
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 10_000, socketTimeout: 60_000 },
  };
}

/** S3 copies parts of 5 MiB or more: the leading ranges usable as copied parts (none when the first is too small). */
function copiedPrefix(ranges: StoredRange[], size: number): StoredRange[] {
  const out: StoredRange[] = [];
  let at = 0;
  for (const r of ranges) {
    if (r.offset !== at || r.size < MIN_PART_SIZE || at + r.size > size) break;
    out.push(r);
    at += r.size;
  }
  return out;
}

function md5Hex(buf: Buffer): string {
  return createHash('md5').update(buf).digest('hex');
}

export class S3AssetStore implements AssetStore {
  readonly type: UploadTarget['type'];
  readonly client: S3Client;
  private readonly bucket: string;

  constructor(target: UploadTarget, client?: S3Client) {
    this.type = target.type;
    this.bucket = target.location;
    this.client = client ?? new S3Client(s3ClientConfig(target));
  }

  pathOf(key: string): string {
    return `${this.type}://${this.bucket}/${key}`;
  }

  async upload(key: string, file: string, opts: UploadOptions = {}): Promise<{ size: number }> {
    const { size } = await stat(file);
    const ContentType = contentTypeOf(key);
    const copied = copiedPrefix(opts.storedRanges ?? [], size);
    if (copied.length > 0) {
      await this.multipartFromStored(key, file, size, ContentType, copied, opts);
    } else if (size <= MULTIPART_THRESHOLD) {
      const body = await readFile(file);
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentLength: size, ContentType }), { abortSignal: opts.signal });
      opts.onProgress?.(size);
    } else {
      await this.multipart(key, file, size, ContentType, opts);
    }
    // confirmed only when the store reports the whole object
    const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: opts.signal });
    if (Number(head.ContentLength) !== size) throw new Error(`the store holds ${String(head.ContentLength)} bytes of ${key}, expected ${size}`);
    return { size };
  }

  /** Parts already stored under an upload id, or null when that upload no longer exists. */
  private async storedParts(key: string, uploadId: string, abortSignal?: AbortSignal): Promise<Map<number, { etag: string; size: number }> | null> {
    const parts = new Map<number, { etag: string; size: number }>();
    let marker: string | undefined;
    try {
      for (;;) {
        const res = await this.client.send(new ListPartsCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }), { abortSignal });
        for (const p of res.Parts ?? []) if (p.PartNumber && p.ETag) parts.set(p.PartNumber, { etag: p.ETag, size: Number(p.Size ?? -1) });
        if (!res.IsTruncated || !res.NextPartNumberMarker) break;
        marker = res.NextPartNumberMarker;
      }
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NoSuchUpload' || e.$metadata?.httpStatusCode === 404) return null;
      throw err;
    }
    return parts;
  }

  private async multipart(key: string, file: string, size: number, ContentType: string, opts: UploadOptions): Promise<void> {
    const partSize = Math.max(PART_SIZE, Math.ceil(size / 9000 / MiB) * MiB);
    const count = Math.ceil(size / partSize);
    let uploadId = opts.resumeId ?? null;
    const abortSignal = opts.signal;
    let stored = uploadId ? await this.storedParts(key, uploadId, abortSignal) : null;
    if (!stored) {
      const created = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType }), { abortSignal });
      if (!created.UploadId) throw new Error('the store returned no upload id');
      uploadId = created.UploadId;
      stored = new Map();
      await opts.onResumeId?.(uploadId);
    }
    const etags: string[] = new Array(count);
    const fh = await open(file, 'r');
    let next = 1;
    let sent = 0;
    let failure: unknown = null;
    const worker = async () => {
      while (failure === null) {
        const n = next++;
        if (n > count) return;
        const offset = (n - 1) * partSize;
        const len = Math.min(partSize, size - offset);
        const buf = Buffer.allocUnsafe(len);
        await fh.read(buf, 0, len, offset);
        const have = stored!.get(n);
        // a part stored by an earlier attempt is kept when its size and MD5 (the part's ETag) match
        if (have && have.size === len && have.etag.replace(/"/g, '').toLowerCase() === md5Hex(buf)) {
          etags[n - 1] = have.etag;
        } else {
          const res = await this.client.send(
            new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId!, PartNumber: n, Body: buf, ContentLength: len }),
            { abortSignal },
          );
          if (!res.ETag) throw new Error(`the store returned no ETag for part ${n}`);
          etags[n - 1] = res.ETag;
        }
        sent += len;
        opts.onProgress?.(sent);
      }
    };
    try {
      const results = await Promise.allSettled(
        Array.from({ length: Math.min(PART_CONCURRENCY, count) }, () =>
          worker().catch((err) => {
            failure ??= err;
            throw err;
          }),
        ),
      );
      if (failure !== null || results.some((r) => r.status === 'rejected')) throw failure;
    } finally {
      await fh.close();
    }
    await this.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: this.bucket,
        Key: key,
        UploadId: uploadId!,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
      { abortSignal },
    );
    await opts.onResumeId?.(null);
  }

  /**
   * A file whose first bytes the store already holds (a recording's parts, streamed while it recorded): those
   * ranges become parts copied inside the store, and only the rest is sent, so the upload at the stop takes
   * about as long for an hour as for a minute.
   */
  private async multipartFromStored(key: string, file: string, size: number, ContentType: string, copied: StoredRange[], opts: UploadOptions): Promise<void> {
    const abortSignal = opts.signal;
    const created = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType }), { abortSignal });
    const uploadId = created.UploadId;
    if (!uploadId) throw new Error('the store returned no upload id');
    try {
      const etags: string[] = new Array(copied.length);
      let next = 0;
      const copier = async () => {
        for (let i = next++; i < copied.length; i = next++) {
          const source = `${this.bucket}/${copied[i].key.split('/').map(encodeURIComponent).join('/')}`;
          const res = await this.client.send(new UploadPartCopyCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: i + 1, CopySource: source }), { abortSignal });
          if (!res.CopyPartResult?.ETag) throw new Error(`the store returned no ETag for copied part ${i + 1}`);
          etags[i] = res.CopyPartResult.ETag;
        }
      };
      await Promise.all(Array.from({ length: Math.min(PART_CONCURRENCY, copied.length) }, copier));
      const from = copied.reduce((n, r) => n + r.size, 0);
      const fh = await open(file, 'r');
      try {
        // the rest in 8 MiB parts (all but the last must be 5 MiB or more)
        for (let offset = from; offset < size; offset += PART_SIZE) {
          const len = Math.min(PART_SIZE, size - offset);
          const buf = Buffer.allocUnsafe(len);
          await fh.read(buf, 0, len, offset);
          const res = await this.client.send(new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: etags.length + 1, Body: buf, ContentLength: len }), { abortSignal });
          if (!res.ETag) throw new Error(`the store returned no ETag for part ${etags.length + 1}`);
          etags.push(res.ETag);
          opts.onProgress?.(offset + len - from);
        }
      } finally {
        await fh.close();
      }
      await this.client.send(
        new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }),
        { abortSignal },
      );
    } catch (err) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
      throw err;
    }
  }

  async presign(key: string, seconds: number): Promise<{ url: string; expiry: number }> {
    const expiry = Math.min(Math.max(1, Math.floor(seconds)), MAX_PRESIGN_SECONDS);
    const url = await getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: expiry });
    return { url, expiry };
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async putBytes(key: string, body: Buffer): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentLength: body.length, ContentType: contentTypeOf(key) }));
  }

  async list(prefix: string): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    let token: string | undefined;
    do {
      const res = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of res.Contents ?? []) if (o.Key) out.push({ key: o.Key, size: Number(o.Size ?? 0), etag: o.ETag?.replace(/"/g, '') });
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async getBytes(key: string): Promise<Buffer> {
    const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    if (!res.Body) throw new Error(`the store returned no body for ${key}`);
    return Buffer.from(await res.Body.transformToByteArray());
  }

  close(): void {
    this.client.destroy();
  }
}
