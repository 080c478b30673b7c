// /v2/live-streams: start/stop HLS live streams of a room, pause/resume their recording, send timed metadata,
// get and list them (reference §4).
import { Type } from 'typebox';
import type { ApiDeps, ApiInstance } from './types.js';
import { notFound } from './errors.js';
import { envelope, envelopeSchema } from './pagination.js';
import { LiveStreamService, TIMED_METADATA_MAX_PAYLOAD } from '../domain/liveStreamService.js';
import { getLiveStreamRow } from '../store/liveStreams.js';
import { rowToLiveStream } from './presenters/jobs.js';
import { assetsOfJob } from '../store/jobObjects.js';
import { JobRows } from '../store/jobRows.js';
import type { LiveStreamTable } from '../store/schema.js';
import { Id, JobListQuery } from './schemas.js';

const RoomParams = Type.Object({ room_id: Id });
const StreamParams = Type.Object({ stream_id: Id });
const StartBody = Type.Object(
  {
    meeting_url: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    recording: Type.Optional(
      Type.Object(
        { hls_vod: Type.Optional(Type.Boolean()), single_file_per_layer: Type.Optional(Type.Boolean()) },
        { additionalProperties: false },
      ),
    ),
    destination: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    transcription: Type.Optional(Type.Object({ enabled: Type.Optional(Type.Boolean()) }, { additionalProperties: true })),
  },
  { additionalProperties: false },
);
const TimedMetadataBody = Type.Object(
  {
    // An HLS quoted-string (EXT-X-DATERANGE) cannot hold '"' or line breaks: refused rather than mangled.
    payload: Type.String({ minLength: 1, maxLength: TIMED_METADATA_MAX_PAYLOAD, pattern: '^[^"\\u0000-\\u001f\\u007f]*$' }),
    duration: Type.Integer({ minimum: 1, maximum: 86400 }),
  },
  { additionalProperties: false },
);
const ListQuery = JobListQuery;
const LiveStream = Type.Object({ id: Type.String(), status: Type.String() }, { additionalProperties: true });

export function liveStreamRoutes(app: ApiInstance, deps: ApiDeps): void {
  const service = deps.liveStreams;
  const { db } = deps;
  const jobs = new JobRows(db, 'live_streams');
  // read at response time: the port may be picked after start
  const show = (r: LiveStreamTable) => rowToLiveStream(r, null, deps.config.publicUrl);
  /** the objects, each `starting` one with why it waits (if it waits for a free recorder) */
  const showWaiting = async (rows: LiveStreamTable[]) => {
    const reasons = await service.waitingReasons(rows);
    return rows.map((r) => rowToLiveStream(r, null, deps.config.publicUrl, reasons.get(r.id)));
  };
  const tags = ['live-streams'];

  app.post(
    '/live-streams/room/:room_id/start',
    {
      schema: { tags, summary: 'Start an HLS live stream of a room', params: RoomParams, body: StartBody, response: { 200: LiveStream } },
    },
    async (req) => (await showWaiting([await service.start(req.params.room_id, req.body)]))[0],
  );

  app.post(
    '/live-streams/room/:room_id/stop',
    { schema: { tags, summary: 'Stop every live stream of a room', params: RoomParams, response: { 200: envelopeSchema(LiveStream) } } },
    async (req) => {
      const stopped = await service.stopRoom(req.params.room_id);
      return envelope(Math.max(10, stopped.length), stopped.map(show), (r) => r.id);
    },
  );

  app.post(
    '/live-streams/:stream_id/stop',
    { schema: { tags, summary: 'Stop a live stream', params: StreamParams, response: { 200: LiveStream } } },
    async (req) => show(await service.stopById(req.params.stream_id)),
  );

  app.post(
    '/live-streams/:stream_id/pause-recording',
    { schema: { tags, summary: 'Pause the recording of a running live stream', params: StreamParams, response: { 200: LiveStream } } },
    async (req) => show(await service.setRecordingPaused(req.params.stream_id, true)),
  );

  app.post(
    '/live-streams/:stream_id/resume-recording',
    { schema: { tags, summary: 'Resume the recording of a running live stream', params: StreamParams, response: { 200: LiveStream } } },
    async (req) => show(await service.setRecordingPaused(req.params.stream_id, false)),
  );

  app.post(
    '/live-streams/:stream_id/timed-metadata',
    {
      schema: {
        tags,
        summary: 'Send timed metadata to the players of a running live stream',
        params: StreamParams,
        body: TimedMetadataBody,
        response: { 200: LiveStream },
      },
    },
    async (req) => show(await service.addTimedMetadata(req.params.stream_id, req.body.payload, req.body.duration)),
  );

  app.get(
    '/live-streams/:stream_id',
    { schema: { tags, summary: 'Get a live stream with its recording assets', params: StreamParams, response: { 200: LiveStream } } },
    async (req) => {
      const r = await getLiveStreamRow(db, req.params.stream_id);
      if (!r) throw notFound('live stream', req.params.stream_id);
      const assets = await assetsOfJob(db, r.id);
      return rowToLiveStream(r, assets.length ? assets : null, deps.config.publicUrl, (await service.waitingReasons([r])).get(r.id));
    },
  );

  app.get(
    '/live-streams',
    { schema: { tags, summary: 'List live streams', querystring: ListQuery, response: { 200: envelopeSchema(LiveStream) } } },
    async (req) => {
      const q = req.query;
      const limit = q.limit ?? 10;
      const rows = await jobs.list(q, limit);
      return envelope(limit, await showWaiting(rows), (r) => r.id);
    },
  );
}
