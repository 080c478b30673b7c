// /v2/recordings: start/stop/pause/resume composite recordings, get and list them (reference §2).
import { Type } from 'typebox';
import type { ApiDeps, ApiInstance } from './types.js';
import { notFound } from './errors.js';
import { envelope, envelopeSchema } from './pagination.js';
import { RecordingService } from '../domain/recordingService.js';
import { getRecordingRow } from '../store/recordings.js';
import { rowToRecording } from './presenters/jobs.js';
import { assetsOfJob } from '../store/jobObjects.js';
import { JobRows } from '../store/jobRows.js';
import type { RecordingTable } from '../store/schema.js';
import { Id, JobListQuery } from './schemas.js';

const RoomParams = Type.Object({ room_id: Id });
const RecordingParams = Type.Object({ recording_id: Id });
const StartBody = Type.Object(
  {
    meeting_url: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    resolution: Type.Optional(
      Type.Object({ width: Type.Integer({ minimum: 1 }), height: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
    ),
    destination: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    audio_only: Type.Optional(Type.Boolean()),
    transcription: Type.Optional(Type.Object({ enabled: Type.Optional(Type.Boolean()) }, { additionalProperties: true })),
  },
  { additionalProperties: false },
);
const ListQuery = JobListQuery;
const Recording = Type.Object({ id: Type.String(), status: Type.String() }, { additionalProperties: true });
export function recordingRoutes(app: ApiInstance, deps: ApiDeps): void {
  const service = deps.recordings;
  const { db } = deps;
  const jobs = new JobRows(db, 'recordings');
  /** the objects, each `starting` one with why it waits (if it waits for a free recorder) */
  const show = async (rows: RecordingTable[]) => {
    const reasons = await service.waitingReasons(rows);
    return rows.map((r) => rowToRecording(r, null, reasons.get(r.id)));
  };

  app.post(
    '/recordings/room/:room_id/start',
    {
      schema: { tags: ['recordings'], summary: 'Start a composite recording of a room', params: RoomParams, body: StartBody, response: { 200: Recording } },
    },
    async (req) => (await show([await service.start(req.params.room_id, req.body)]))[0],
  );

  app.post(
    '/recordings/room/:room_id/stop',
    { schema: { tags: ['recordings'], summary: 'Stop every recording of a room', params: RoomParams, response: { 200: envelopeSchema(Recording) } } },
    async (req) => {
      const stopped = await service.stopRoom(req.params.room_id);
      return envelope(Math.max(10, stopped.length), stopped.map((r) => rowToRecording(r, null)), (r) => r.id);
    },
  );

  app.post(
    '/recordings/:recording_id/stop',
    { schema: { tags: ['recordings'], summary: 'Stop a recording', params: RecordingParams, response: { 200: Recording } } },
    async (req) => rowToRecording(await service.stopById(req.params.recording_id), null),
  );

  app.post(
    '/recordings/room/:room_id/pause',
    { schema: { tags: ['recordings'], summary: 'Pause the running recording of a room', params: RoomParams, response: { 200: Recording } } },
    async (req) => rowToRecording(await service.setPaused(req.params.room_id, true), null),
  );

  app.post(
    '/recordings/room/:room_id/resume',
    { schema: { tags: ['recordings'], summary: 'Resume the paused recording of a room', params: RoomParams, response: { 200: Recording } } },
    async (req) => rowToRecording(await service.setPaused(req.params.room_id, false), null),
  );

  app.get(
    '/recordings/:recording_id',
    { schema: { tags: ['recordings'], summary: 'Get a recording with its assets', params: RecordingParams, response: { 200: Recording } } },
    async (req) => {
      const r = await getRecordingRow(db, req.params.recording_id);
      if (!r) throw notFound('recording', req.params.recording_id);
      const assets = await assetsOfJob(db, r.id);
      return rowToRecording(r, assets.length ? assets : null, (await service.waitingReasons([r])).get(r.id));
    },
  );

  app.get(
    '/recordings',
    { schema: { tags: ['recordings'], summary: 'List recordings', querystring: ListQuery, response: { 200: envelopeSchema(Recording) } } },
    async (req) => {
      const q = req.query;
      const limit = q.limit ?? 10;
      const rows = await jobs.list(q, limit);
      return envelope(limit, await show(rows), (r) => r.id);
    },
  );
}
