// Stop → asset in the bucket, for a short and a long recording (issue 14): the recording's parts went up while it
// recorded, sealed into 8 MiB parts (recorder/streamedParts.ts), so the upload at the stop checks them against
// the file (MD5), copies them inside the bucket and sends only the tail. Side by side in the same run, the
// reference: the same file sent whole, as before streaming. On the S3 test server (Swift) on loopback, where
// sending costs nothing and Swift copies a part by reading and writing it: the time figures here say little about
// a real uplink; the MiB sent at the stop are what changes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3TestServer, S3_KEY, S3_REGION, S3_SECRET } from '../test/helpers/s3TestServer.js';
import { storeFor } from '../src/storage/index.js';
import { segmentPartKey, streamedRanges } from '../src/storage/parts.js';
import { SEAL_BYTES } from '../src/recorder/streamedParts.js';

const MiB = 1024 * 1024;
/** about 1.5 Mbit/s, the composite's rate: one minute and one hour */
const RECORDINGS = { one_minute: 11 * MiB, one_hour: 660 * MiB };
/** what was written in the last second before the stop: not in the bucket yet */
const TAIL = 200 * 1024;

export async function benchUploadAtStop(): Promise<object> {
  const s3 = new S3TestServer();
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-upload-bench-'));
  const out: Record<string, unknown> = {};
  try {
    await s3.start();
    await s3.createBucket('bench');
    const store = storeFor({ type: 's3', location: 'bench', prefix: 'b', endpoint: s3.endpoint, region: S3_REGION, key: S3_KEY, secret: S3_SECRET }, { allowPrivateEndpoint: true });
    try {
      for (const [name, size] of Object.entries(RECORDINGS)) {
        const file = join(dir, `${name}.mp4`);
        const bytes = randomBytes(size);
        writeFileSync(file, bytes);
        const place = { store, prefix: `b/.parts/${name}/` };
        // what the recorder had sealed by the stop; the small parts since then are not copied either way
        for (let at = 0; at + SEAL_BYTES <= size - TAIL; at += SEAL_BYTES) await store.putBytes(segmentPartKey(place.prefix, 'attempt-1/segment-0000.mp4', at), bytes.subarray(at, at + SEAL_BYTES));
        let t = Date.now();
        const ranges = await streamedRanges(place, file);
        const checkSeconds = (Date.now() - t) / 1000;
        await store.upload(`b/streamed/${name}.mp4`, file, { storedRanges: ranges });
        const streamed = (Date.now() - t) / 1000;
        t = Date.now();
        await store.upload(`b/whole/${name}.mp4`, file);
        const whole = (Date.now() - t) / 1000;
        const copied = ranges.reduce((n, r) => n + r.size, 0);
        out[name] = { mib: size / MiB, copied_in_store_mib: copied / MiB, sent_at_stop_mib: (size - copied) / MiB, stop_to_stored_seconds: streamed, of_which_check_seconds: checkSeconds, reference_whole_upload_seconds: whole };
        rmSync(file);
      }
    } finally {
      store.close();
    }
  } finally {
    s3.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
