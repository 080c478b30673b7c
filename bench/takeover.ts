// What a recorder machine's death costs (issue 14): a fleet of one node and two workers, a recording whose
// worker is SIGKILLed with all it started 10 s in (test/helpers/takeoverScenario.ts). Per run: the seconds
// recorded before the kill that the asset misses, read from the clock its pictures show; the hole in the file;
// kill → the other worker runs the job; stop → asset in the bucket. Before parts were streamed to the store,
// the same kill lost the whole recording (the asset was on the dead machine's disk). The same for a live
// stream, read from what a player got from a node (`kind: live-stream`; stop → asset is then the VOD's).
import { lostAroundKill, runTakeover, type TakeoverKind } from '../test/helpers/takeoverScenario.js';

const RUNS = 3;

interface RunFigures {
  lost_seconds: number;
  gap_seconds: number;
  takeover_seconds: number;
  stop_to_asset_seconds: number;
  file_seconds: number;
}

export async function benchTakeover(kind: TakeoverKind = 'recording', runsWanted = RUNS): Promise<object> {
  const runs: RunFigures[] = [];
  for (let i = 0; i < runsWanted; i++) {
    const run = await runTakeover({ killAfterS: 10, afterTakeoverS: 6, kind });
    const { lostSeconds, gapSeconds } = lostAroundKill(run);
    runs.push({
      lost_seconds: lostSeconds,
      gap_seconds: gapSeconds,
      takeover_seconds: (run.tookOverAt - run.killAt) / 1000,
      stop_to_asset_seconds: (run.assetAt - run.stopAt) / 1000,
      // a player's joined segments carry two encoders' timestamps: their playlist says how long they are
      file_seconds: run.live ? run.live.playlist.segments.reduce((sum, x) => sum + x.duration, 0) : run.fileSeconds,
    });
  }
  const max = (k: keyof RunFigures) => Math.max(...runs.map((r) => r[k]));
  return { runs, max_lost_seconds: max('lost_seconds'), settings: kind === 'recording' ? { RECORDER_TAKEOVER_SECONDS: 10, parts_interval_ms: 1000, mp4_fragment_seconds: 1 } : { RECORDER_TAKEOVER_SECONDS: 10, mirror_interval_ms: 250, segment_seconds: 2 } };
}
