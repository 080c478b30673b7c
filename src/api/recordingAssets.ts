// /v2/recording-assets: list, get, presigned URL (reference §3); and /assets/<key>, the local store's signed
// download route (no management token: the signature and expiry are the authorisation).
import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps, ApiInstance } from './types.js';
import { ApiError, notFound } from './errors.js';
import { envelope, envelopeSchema, pageQuery } from './pagination.js';
import { rowToAsset } from './presenters/jobs.js';
import { describeStoreError } from '../storage/index.js';
import { Id } from './schemas.js';
import { getAsset, listAssets, uploadedAssetOfLocalKey } from '../store/assets.js';

const AssetParams = Type.Object({ asset_id: Id });
const ListQuery = Type.Object({
  ...pageQuery,
  room_id: Type.Optional(Id),
  session_id: Type.Optional(Id),
  job_id: Type.Optional(Id),
  // recording: a recording's MP4 while it is being written (store/openAssets.ts)
  status: Type.Optional(Type.Union([Type.Literal('completed'), Type.Literal('failed'), Type.Literal('processing'), Type.Literal('recording')])),
  type: Type.Optional(Type.String({ maxLength: 64 })),
});
const PresignQuery = Type.Object({
  // 1 minute to 7 days
  presign_duration: Type.Optional(Type.Integer({ minimum: 60, maximum: 7 * 86400 })),
});
const Asset = Type.Object({ id: Type.String(), type: Type.String() }, { additionalProperties: true });
const Presigned = Type.Object({ id: Type.String(), path: Type.String(), url: Type.String(), expiry: Type.Integer() });

/** Default validity of a presigned URL: 3 days, as S3/GCS in the reference. */
export const DEFAULT_PRESIGN_SECONDS = 3 * 86400;

export function recordingAssetRoutes(app: ApiInstance, deps: ApiDeps): void {
  const { db } = deps;

  async function assetRow(id: string) {
    const a = await getAsset(db, id);
    if (!a) throw notFound('recording asset', id);
    return a;
  }

  app.get(
    '/recording-assets',
    { schema: { tags: ['recording-assets'], summary: 'List recording assets', querystring: ListQuery, response: { 200: envelopeSchema(Asset) } } },
    async (req) => {
      const q = req.query;
      const limit = q.limit ?? 10;
      const rows = await listAssets(db, { roomId: q.room_id, sessionId: q.session_id, jobId: q.job_id, status: q.status, type: q.type, belowId: q.start, limit });
      return envelope(limit, rows.map(rowToAsset), (a) => a.id);
    },
  );

  app.get(
    '/recording-assets/:asset_id',
    { schema: { tags: ['recording-assets'], summary: 'Get a recording asset', params: AssetParams, response: { 200: Asset } } },
    async (req) => rowToAsset(await assetRow(req.params.asset_id)),
  );

  app.get(
    '/recording-assets/:asset_id/presigned-url',
    {
      schema: {
        tags: ['recording-assets'],
        summary: 'A short-lived download URL for an asset',
        params: AssetParams,
        querystring: PresignQuery,
        response: { 200: Presigned },
      },
    },
    async (req) => {
      const a = await assetRow(req.params.asset_id);
      if (a.deleted_at) throw new ApiError(404, 'Asset expired', [`asset ${a.id} was removed by the retention policy at ${a.deleted_at}`]);
      // from the store the asset is in now: the customer's (3 days, OSS 9 h by default), or this server's disk
      // while its upload is pending or failed
      try {
        const { url, expiry } = await deps.uploads.presign(a, req.query.presign_duration);
        return { id: a.id, path: a.path, url, expiry };
      } catch (err) {
        req.log.warn({ err: describeStoreError(err), assetId: a.id }, 'presigning failed');
        throw new ApiError(502, 'Storage not available', [`asset ${a.id} in ${a.storage} storage could not be presigned: ${describeStoreError(err)}`]);
      }
    },
  );
}

/** GET /assets/<key>?expires=…&sig=… streams a locally stored asset (Range supported by @fastify/static). */
export function localAssetDownloadRoute(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/assets/*', { schema: { hide: true } }, async (req, reply) => {
    // the router has already percent-decoded the wildcard; decoding again would misread keys holding '%'
    const key = (req.params as { '*': string })['*'];
    const q = req.query as { expires?: string; sig?: string };
    const refused = deps.localStorage.checkSignature(key, q.expires, q.sig);
    if (refused) return reply.status(403).send({ code: 403, message: 'Access denied', details: [refused] });
    let file: string;
    try {
      file = deps.localStorage.fileOf(key);
    } catch {
      return reply.status(400).send({ code: 400, message: 'Invalid asset key', details: ['key escapes the asset store'] });
    }
    if (!deps.localStorage.exists(key)) {
      // uploaded to the customer's store since this URL was signed (webhooks may carry it): send the client there
      const uploaded = await uploadedAssetOfLocalKey(deps.db, key);
      if (uploaded) {
        const left = Math.max(60, Number(q.expires) - Math.floor(Date.now() / 1000));
        try {
          const { url } = await deps.uploads.presign(uploaded, left);
          return reply.redirect(url, 302);
        } catch (err) {
          req.log.warn({ err: describeStoreError(err), assetId: uploaded.id }, 'presigning failed');
        }
      }
      return reply.status(404).send({ code: 404, message: 'Asset not found', details: [key] });
    }
    reply.header('cache-control', 'private, max-age=0');
    return reply.sendFile(file.slice(deps.localStorage.root.length + 1), deps.localStorage.root);
  });
}
