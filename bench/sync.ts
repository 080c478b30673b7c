// Lip sync: flash/beep offsets (audio − video) on the receiving meeting page, in the composite MP4 and in HLS,
// over SYNC_SECONDS (default 30; e.g. 600 for the 10-minute drift figure). See test/helpers/syncScenario.ts.
import { runSyncScenario, type SyncRun } from '../test/helpers/syncScenario.js';

export async function benchSync(): Promise<SyncRun> {
  const seconds = Number(process.env.SYNC_SECONDS ?? 30);
  return runSyncScenario({ seconds, hls: process.env.SYNC_HLS !== '0', log: (m) => process.stderr.write(`[bench] sync: ${m}\n`) });
}
