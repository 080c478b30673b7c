// The two REST resources as egress jobs: how a recording row and a live-stream row become one JobSpec, and
// how the worker's reports (running, post-processing, finished with asset drafts) reach each resource's
// service, which owns its row and its events (beam.* or hls.*). Everything else about a job is shared.
import type { Config } from '../config.js';
import type { Db } from '../store/db.js';
import type { ErrorType } from '../domain/recordingJob.js';
import type { JobStatus } from '../model/jobStatus.js';
import type { JobColumns } from '../store/schema.js';
import type { RecordingService } from '../domain/recordingService.js';
import type { LiveStreamService } from '../domain/liveStreamService.js';
import { webhookPresignSeconds } from '../model/templates.js';
import { getTemplate } from '../store/templates.js';
import { getRoomRow } from '../store/rooms.js';
import { layersOf, recordedLayersOf } from '../store/liveStreams.js';
import { liveOutputDir } from '../storage/live.js';
import type { EgressJobKind, JobSpec, OutputSpec } from './jobSpec.js';
import { encoderLayers, SEGMENT_SECONDS } from './outputs/hlsLive.js';
import type { AssetDraft, FinishedJob } from './outputs/finalise.js';

/** A job row as the worker sees it, whichever resource it is. */
export interface JobView extends FinishedJob {
  status: JobStatus;
  meeting_url: string;
  /** the recording is paused (a recording's pause, a live stream's pause-recording) */
  paused: boolean;
}

export interface JobOutcome {
  drafts: AssetDraft[];
  /** seconds the stream produced (live); recordings take their asset's */
  duration: number;
  errorType?: ErrorType;
  errorMessage?: string;
  stoppedAt: Date;
}

export interface EgressJobKindAdapter {
  kind: EgressJobKind;
  /** in messages and logs: "recording", "live stream" */
  label: string;
  get(id: string): Promise<JobView | undefined>;
  specOf(id: string): Promise<{ spec: JobSpec; size: { width: number; height: number }; fps: number; audioOnly: boolean } | undefined>;
  /** false: the job is no longer starting (a stop came first) */
  markRunning(id: string, at: Date): Promise<boolean>;
  move(id: string, to: JobStatus): Promise<unknown>;
  presignSeconds(id: string): Promise<number>;
  finish(id: string, outcome: JobOutcome): Promise<void>;
}

/** What the job kinds are built with (server.ts): the resources' services, and where files go. */
export interface JobKindDeps {
  config: Pick<Config, 'dataDir'>;
  db: Db;
  recordings: RecordingService;
  liveStreams: LiveStreamService;
}

async function templateOfRoom(db: Db, roomId: string) {
  const room = await getRoomRow(db, roomId);
  return room ? getTemplate(db, room.template_id) : null;
}

/** specOf's answer: the job spec, and the size, frame rate and audio of the capture. */
type KindSpec = NonNullable<Awaited<ReturnType<EgressJobKindAdapter['specOf']>>>;

/** What tells one kind of job from the other: its service and how its row reads as a job. */
interface JobKind<R extends JobColumns> {
  kind: EgressJobKind;
  label: string;
  service: {
    get(id: string): Promise<R | undefined>;
    markRunning(id: string, at: Date): Promise<unknown>;
    move(id: string, to: JobStatus): Promise<unknown>;
  };
  paused(r: R): boolean;
  specOf(r: R): KindSpec;
  /** the HLS destination whose presignDuration the webhook URLs follow; none: the recording config's */
  presignDestination(r: R): string | undefined;
  finish(id: string, outcome: JobOutcome): Promise<void>;
}

/** The adapter of one kind: the row lookups and moves are the same for both kinds. */
function adapterOf<R extends JobColumns>(db: Db, k: JobKind<R>): EgressJobKindAdapter {
  const { service } = k;
  return {
    kind: k.kind,
    label: k.label,
    async get(id) {
      const r = await service.get(id);
      return r && { ...r, status: r.status as JobStatus, paused: k.paused(r) };
    },
    async specOf(id) {
      const r = await service.get(id);
      return r && k.specOf(r);
    },
    markRunning: async (id, at) => !!(await service.markRunning(id, at)),
    move: (id, to) => service.move(id, to),
    async presignSeconds(id) {
      const r = await service.get(id);
      return webhookPresignSeconds(r ? await templateOfRoom(db, r.room_id) : null, r && k.presignDestination(r));
    },
    finish: (id, outcome) => k.finish(id, outcome),
  };
}

export function recordingJobs(deps: JobKindDeps): EgressJobKindAdapter {
  const service = deps.recordings;
  return adapterOf(deps.db, {
    kind: 'recording',
    label: 'recording',
    service,
    paused: (r) => r.paused === 1,
    specOf(r) {
      const outputs: OutputSpec[] = [{ kind: 'mp4File', width: r.width, height: r.height }];
      return { spec: { kind: 'recording', jobId: r.id, outputs }, size: { width: r.width, height: r.height }, fps: 30, audioOnly: r.audio_only === 1 };
    },
    // the webhook's URL lives as long as the recording config's presignDuration
    presignDestination: () => undefined,
    async finish(id, o) {
      const mp4 = o.drafts.find((d) => d.output === 'mp4File');
      await service.finish(id, { ...o, asset: mp4?.asset ?? null, presignedUrl: mp4?.presignedUrl ?? null });
    },
  });
}

export function liveStreamJobs(deps: JobKindDeps): EgressJobKindAdapter {
  const service = deps.liveStreams;
  return adapterOf(deps.db, {
    kind: 'live-stream',
    label: 'live stream',
    service,
    paused: (r) => r.recording_paused === 1,
    specOf(r) {
      const layers = layersOf(r);
      const wanted = new Set(recordedLayersOf(r).map((l) => `${l.width}x${l.height}`));
      const recorded = layers.map((l, i) => (wanted.has(`${l.width}x${l.height}`) ? i : -1)).filter((i) => i >= 0);
      const outputs: OutputSpec[] = [
        {
          kind: 'hlsLive',
          dir: liveOutputDir(deps.config.dataDir, r.id),
          layers: encoderLayers(layers),
          audioBitrateKbps: layers[0]?.audioBitrate ?? 128,
          segmentSeconds: SEGMENT_SECONDS,
          playlistType: r.playlist_type === 'live' ? 'live' : 'event',
          windowSegments: r.num_playlist_segments,
          prunable: r.hls_vod !== 1 && r.single_file_per_layer !== 1,
        },
      ];
      if (r.single_file_per_layer === 1) outputs.push({ kind: 'layerFiles', layers: recorded });
      if (r.hls_vod === 1) outputs.push({ kind: 'hlsVod', layers: recorded });
      const top = layers[0];
      return { spec: { kind: 'live-stream', jobId: r.id, outputs }, size: { width: top.width, height: top.height }, fps: r.video_frame_rate, audioOnly: false };
    },
    // webhook URLs live as long as the destination (or the recording config) says
    presignDestination: (r) => r.destination,
    async finish(id, o) {
      const vod = o.drafts.find((d) => d.output === 'hlsVod');
      const singleFiles = o.drafts
        .filter((d) => d.output === 'layerFiles' && d.layer)
        .map((d) => ({ asset: d.asset, presignedUrl: d.presignedUrl, layer: d.layer!.index, width: d.layer!.width, height: d.layer!.height }));
      await service.finish(id, { ...o, vod: vod ? { asset: vod.asset, presignedUrl: vod.presignedUrl } : null, singleFiles });
    },
  });
}
