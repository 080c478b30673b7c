// HLS for any player, on any origin (CORS), without the management token:
//  - GET /hls/<stream_id>/<playback_key>/<file>: a live stream's output. The playback URL is the capability:
//    its `playback_key` segment is 128 random bits made at start, so knowing or guessing a stream id (ids
//    sort by time) gives nothing. Files come from DATA_DIR/live/<stream_id>/ only (master.m3u8,
//    <layer>/index.m3u8, <layer>/seg_*.ts) or, in a fleet (REDIS_URL), from the stream's copy in its store
//    when another machine encodes it (storage/liveFiles.ts); media playlists are shown as a sliding window
//    for `live` streams and carry the stream's timed metadata as EXT-X-DATERANGE.
//  - GET /vod/<asset_id>/<expires>/<sig>/<file>: a room-vod asset in the local store, by a path-signed URL
//    (storage/live.ts) whose relative URIs inherit the signature.
//  - GET /live/room/<room_id>/playback (app token of that room): the playback URL of the room's running
//    stream, for the meeting page's HLS viewer; GET /vendor/hls.min.js: the player it uses.
// A wrong key or signature, an unknown stream and a missing file are the same 404 (or 403 for an expired or
// bad VOD signature), always with CORS headers so a player can read them.
import { timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, sep } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ApiDeps } from './types.js';
import { activeLiveStreams, getLiveStreamRow, playbackUrl, timedMetadataOf } from '../store/liveStreams.js';
import { getAsset } from '../store/assets.js';
import { TokenError, verifyToken } from '../auth/tokens.js';
import { liveOutputDir, VodUrlSigner } from '../storage/live.js';
import { LiveFilesInStore } from '../storage/liveFiles.js';
import { describeStoreError } from '../storage/index.js';
import { slidingWindow, withDateRanges } from '../domain/hlsPlaylists.js';

const TYPES: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.ts': 'video/mp2t',
  '.m4s': 'video/mp4',
  '.mp4': 'video/mp4',
  '.aac': 'audio/aac',
  '.vtt': 'text/vtt; charset=utf-8',
};

/** Relative file paths served: plain names, no dot-first segments (so no '..'), no empty parts. */
const SAFE_PATH = /^(?:[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}\/){0,3}[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;
const ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Playlists change every segment; segment files never change once written (ffmpeg renames finished ones in). */
export const PLAYLIST_CACHE = 'no-cache';
export const SEGMENT_CACHE = 'public, max-age=31536000, immutable';

function cors(reply: FastifyReply): FastifyReply {
  return reply
    .header('access-control-allow-origin', '*')
    .header('access-control-expose-headers', 'Content-Length, Content-Range, Accept-Ranges, Content-Type, Date, ETag')
    .header('timing-allow-origin', '*');
}

function sameKey(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function notFound(reply: FastifyReply, what: string) {
  return cors(reply).status(404).send({ code: 404, message: 'Not found', details: [what] });
}

type PlaylistView = (text: string) => Promise<string> | string;
const NOT_YET = 'no such file (the stream may not have produced it yet)';

/** Serves `rel` from `dir`; playlists go through `playlist` (text → text) and are never cached. */
async function serveFile(reply: FastifyReply, dir: string, rel: string, playlist: PlaylistView = (t) => t) {
  const type = TYPES[extname(rel)];
  const file = join(dir, rel);
  if (!type || !SAFE_PATH.test(rel) || !file.startsWith(dir + sep)) return notFound(reply, 'no such file');
  const st = await stat(file).catch(() => null);
  if (!st?.isFile()) return notFound(reply, NOT_YET);
  cors(reply).header('content-type', type);
  if (extname(rel) === '.m3u8') {
    const text = await playlist(await readFile(file, 'utf8'));
    return reply.header('cache-control', PLAYLIST_CACHE).send(text);
  }
  reply.header('cache-control', SEGMENT_CACHE);
  return reply.sendFile(rel, dir, { cacheControl: false, contentType: false });
}

/** Serves `rel` read from a fleet's store: the same headers and playlist view as from the disk; 503 while the store cannot be read. */
async function serveStored(reply: FastifyReply, rel: string, read: () => Promise<Buffer | null>, playlist: PlaylistView) {
  const type = TYPES[extname(rel)];
  if (!type) return notFound(reply, 'no such file');
  let body: Buffer | null;
  try {
    body = await read();
  } catch (err) {
    reply.log.warn({ err: describeStoreError(err) }, 'could not read a live stream from its store');
    return cors(reply).status(503).header('retry-after', '1').send({ code: 503, message: 'Store unavailable', details: ['the live stream\'s store cannot be read now; try again'] });
  }
  if (body === null) return notFound(reply, NOT_YET);
  cors(reply).header('content-type', type);
  if (extname(rel) === '.m3u8') return reply.header('cache-control', PLAYLIST_CACHE).send(await playlist(body.toString('utf8')));
  return reply.header('cache-control', SEGMENT_CACHE).send(body);
}

export function hlsRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const vodSigner = new VodUrlSigner(deps.config.appSecret, () => deps.config.publicUrl);
  const stored = deps.config.redisUrl ? new LiveFilesInStore((roomId, streamId) => deps.uploads.livePlace(roomId, streamId)) : null;
  if (stored) app.addHook('onClose', async () => stored.close());

  // Preflight: hls.js sends plain GETs, but players adding headers (Range, custom ones) trigger one.
  const preflight = async (_req: unknown, reply: FastifyReply) =>
    cors(reply)
      .header('access-control-allow-methods', 'GET, HEAD, OPTIONS')
      .header('access-control-allow-headers', 'Range, Content-Type, Accept, Origin, Cache-Control')
      .header('access-control-max-age', '86400')
      .status(204)
      .send();
  app.options('/hls/*', { schema: { hide: true } }, preflight);
  app.options('/vod/*', { schema: { hide: true } }, preflight);
  // anything else under these prefixes: the same 404, readable by a player on another origin
  app.get('/hls/*', { schema: { hide: true } }, async (_req, reply) => notFound(reply, 'no such file'));
  app.get('/vod/*', { schema: { hide: true } }, async (_req, reply) => notFound(reply, 'no such file'));

  app.get('/hls/:stream_id/:key/*', { schema: { hide: true } }, async (req, reply) => {
    const { stream_id: streamId, key, '*': rel } = req.params as { stream_id: string; key: string; '*': string };
    if (!ID.test(streamId) || !ID.test(key) || !SAFE_PATH.test(rel)) return notFound(reply, 'no such file');
    const stream = await getLiveStreamRow(deps.db, streamId);
    if (!stream || !sameKey(stream.playback_key, key)) return notFound(reply, 'no such live stream');
    const view: PlaylistView = async (text) => {
      if (text.includes('#EXT-X-STREAM-INF')) return text; // the master
      // media playlists: the encoder writes the whole stream; a `live` stream shows its window
      if (stream.playlist_type === 'live') text = slidingWindow(text, stream.num_playlist_segments);
      return withDateRanges(text, await timedMetadataOf(deps.db, streamId));
    };
    const dir = liveOutputDir(deps.config.dataDir, streamId);
    // encoded on another machine of the fleet: its copy in the store
    if (stored && !existsSync(join(dir, 'master.m3u8'))) return serveStored(reply, rel, () => stored.read(stream.room_id, streamId, rel), view);
    return serveFile(reply, dir, rel, view);
  });

  app.get('/vod/:asset_id/:expires/:sig/*', { schema: { hide: true } }, async (req, reply) => {
    const { asset_id: assetId, expires, sig, '*': rel } = req.params as { asset_id: string; expires: string; sig: string; '*': string };
    if (!ID.test(assetId) || !ID.test(sig)) return notFound(reply, 'no such file');
    const refused = vodSigner.check(assetId, expires, sig);
    if (refused) return cors(reply).status(403).send({ code: 403, message: 'Access denied', details: [refused] });
    const a = await getAsset(deps.db, assetId);
    if (!a || a.type !== 'room-vod' || a.storage !== 'local' || a.deleted_at) return notFound(reply, 'no such VOD asset');
    return serveFile(reply, dirname(deps.localStorage.fileOf(a.storage_key)), rel);
  });

  app.get('/live/room/:room_id/playback', { schema: { hide: true } }, async (req, reply) => {
    const roomId = (req.params as { room_id: string }).room_id;
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!m) return reply.status(401).send({ code: 401, message: 'Token validation error', details: ['authorization header must be "Bearer <app token>"'] });
    try {
      const t = await verifyToken({ accessKey: deps.config.accessKey, appSecret: deps.config.appSecret }, m[1]);
      if (t.type !== 'app' || t.room_id !== roomId) {
        return reply.status(403).send({ code: 403, message: 'Token not permitted', details: ['an app token of this room is needed'] });
      }
    } catch (err) {
      if (err instanceof TokenError) return reply.status(err.status).send({ code: err.status, message: 'Token validation error', details: [err.detail] });
      throw err;
    }
    const stream = ID.test(roomId) ? (await activeLiveStreams(deps.db, roomId))[0] : undefined;
    if (!stream) return reply.status(404).send({ code: 404, message: 'No live stream', details: [`room ${roomId} is not streaming`] });
    reply.header('cache-control', 'no-store');
    return { id: stream.id, status: stream.status, playback_url: playbackUrl(deps.config.publicUrl, stream) };
  });

  const hlsJs = createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js');
  app.get('/vendor/hls.min.js', { schema: { hide: true } }, async (_req, reply) => {
    reply.header('content-type', 'text/javascript; charset=utf-8').header('cache-control', 'public, max-age=86400');
    return reply.sendFile(basename(hlsJs), dirname(hlsJs), { cacheControl: false, contentType: false });
  });
}
