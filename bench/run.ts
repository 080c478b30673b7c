// npm run bench: every figure the issues ask for, as one JSON document on stdout (progress on stderr).
// Each part runs alone (no other part's browsers or encoders alive), so the figures are of that part only.
// `npm run bench -- sfu recording` runs the named parts.
import { benchSfu } from './sfu.js';
import { benchRecorder } from './recorder.js';
import { benchRecording } from './recording.js';
import { benchLiveStream } from './liveStream.js';
import { benchSync } from './sync.js';
import { benchDispatch } from './dispatch.js';
import { benchTakeover } from './takeover.js';
import { benchUploadAtStop } from './uploadAtStop.js';
import { benchSimulcast } from './simulcast.js';
import { benchLossyRecording } from './lossyRecording.js';

const parts: Record<string, () => Promise<unknown>> = {
  sfu: () => benchSfu(),
  capture: async () => ({
    mp4_ultrafast: await benchRecorder({ preset: 'ultrafast', output: 'mp4', seconds: 15 }),
    hls_ladder_ultrafast: await benchRecorder({ preset: 'ultrafast', output: 'hls', seconds: 15 }),
  }),
  recording: async () => ({
    peers_2: await benchRecording({ peers: 2, runs: 5 }),
    peers_4: await benchRecording({ peers: 4, runs: 2 }),
  }),
  live_stream: () => benchLiveStream(),
  sync: () => benchSync(),
  dispatch: () => benchDispatch(),
  takeover: () => benchTakeover(),
  takeover_live: () => benchTakeover('live-stream', 2),
  upload_at_stop: () => benchUploadAtStop(),
  simulcast: () => benchSimulcast(),
  lossy_recording: () => benchLossyRecording(),
};

const wanted = process.argv.slice(2).filter((a) => a in parts);
const out: Record<string, unknown> = {
  machine: { cores: (await import('node:os')).cpus().length, node: process.version, at: new Date().toISOString() },
};
for (const name of wanted.length ? wanted : Object.keys(parts)) {
  process.stderr.write(`[bench] ${name}…\n`);
  const t = Date.now();
  try {
    out[name] = await parts[name]();
  } catch (err) {
    out[name] = { error: err instanceof Error ? err.message : String(err) };
  }
  process.stderr.write(`[bench] ${name} done in ${Math.round((Date.now() - t) / 1000)} s\n`);
}
console.log(JSON.stringify(out, null, 2));
process.exit(0);
