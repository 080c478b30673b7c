// Lip sync: flash/beep offsets (audio − video) on the receiving meeting page, in the composite MP4 and in HLS,
// over SYNC_SECONDS (default 30; e.g. 600 for the 10-minute drift figure). See test/helpers/syncScenario.ts.
// capture_path: the recorder's stage and encoder alone, filming a local flash/beep page (no WebRTC): what the
// capture calibration measures (src/recorder/calibration.ts).
import { createLogger } from '../src/logger.js';
import { calibrationKey, measureCaptureOffset } from '../src/recorder/calibration.js';
import { runSyncScenario, type SyncRun } from '../test/helpers/syncScenario.js';

export async function benchSync(): Promise<SyncRun & { capture_path: object }> {
  const seconds = Number(process.env.SYNC_SECONDS ?? 30);
  const log = (m: string) => process.stderr.write(`[bench] sync: ${m}\n`);
  log('capture path…');
  const c = await measureCaptureOffset({ logger: createLogger('silent'), key: await calibrationKey(), seconds: 21 });
  const capture_path = { median_ms: c.measuredMs, p95_spread_ms: c.spreadMs, pairs: c.pairs };
  return { capture_path, ...(await runSyncScenario({ seconds, hls: process.env.SYNC_HLS !== '0', log })) };
}
