// Files of live streams. While a stream runs its HLS output lives in DATA_DIR/live/<stream_id>/ (master.m3u8,
// one directory per layer), served by the HLS route and removed after the stream. Its recordings go to the
// asset store under the reference's HLS keys, and a room-vod asset is played through path-signed URLs:
// /vod/<asset_id>/<expires>/<sig>/master.m3u8 — the signature sits in the path, so the playlists' relative
// URIs (layer playlists, segments) inherit it, which a query-string signature would not survive.
import { join } from 'node:path';
import { UrlSignature } from './urlSignature.js';

export function liveOutputDir(dataDir: string, streamId: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(streamId)) throw new Error(`invalid stream id ${streamId}`);
  return join(dataDir, 'live', streamId);
}

function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10).replace(/-/g, '');
}

/** Reference §3.4: <prefix>/hls/<room_id>/<YYYYMMDD>/<epoch ms>/…; epoch = when the recorder started. */
export function hlsKeyBase(prefix: string, roomId: string, startedAtMs: number): string {
  return `${prefix}/hls/${roomId}/${day(startedAtMs)}/${startedAtMs}`;
}

/** …/file-recording/Rec-<room_id>-<epoch>-<layer index>.mp4 (0 = highest layer) */
export function hlsLayerFileKey(prefix: string, roomId: string, startedAtMs: number, layer: number): string {
  return `${hlsKeyBase(prefix, roomId, startedAtMs)}/file-recording/Rec-${roomId}-${startedAtMs}-${layer}.mp4`;
}

/** …/vod/ holds master.m3u8 and one directory per layer (unzipped). */
export function hlsVodKeyDir(prefix: string, roomId: string, startedAtMs: number): string {
  return `${hlsKeyBase(prefix, roomId, startedAtMs)}/vod`;
}

export class VodUrlSigner {
  private readonly signature: UrlSignature;

  constructor(
    appSecret: string,
    /** read at signing time: the port may be picked after start */
    private readonly publicUrl: () => string,
  ) {
    this.signature = new UrlSignature(appSecret, 'roomcast vod urls');
  }

  presign(assetId: string, seconds: number, nowMs = Date.now()): { url: string; expiry: number } {
    const expires = Math.floor(nowMs / 1000) + seconds;
    return { url: `${this.publicUrl()}/vod/${assetId}/${expires}/${this.signature.sign(assetId, expires)}/master.m3u8`, expiry: seconds };
  }

  /** Why a request is refused, or null when it is good. */
  check(assetId: string, expires: string, sig: string, nowMs = Date.now()): string | null {
    if (!/^\d{1,12}$/.test(expires)) return 'malformed expiry';
    return this.signature.refusal(assetId, expires, sig, nowMs);
  }
}
