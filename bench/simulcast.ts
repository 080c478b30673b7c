// Simulcast's saving where it matters most: the recorder's CPU. A 4-peer room of 1280×720 cameras recorded at
// 720p (the peers receive nobody: on 2 cores their own decoding would starve the encoders being measured), with simulcast (each tile about 640 px wide: the recorder receives and decodes the half-size layer)
// and without (it decodes four full 720p streams), runs alternating in the same bench so both see the same
// machine. Figures: the recorder's process groups' CPU (cores) per run, and the medians.
import { benchRecording } from './recording.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

export async function benchSimulcast(rounds = 2): Promise<unknown> {
  type Run = { chromium: number; ffmpeg: number; total: number; sent: unknown };
  const runs: Record<'simulcast' | 'single_layer', Run[]> = { simulcast: [], single_layer: [] };
  for (let i = 0; i < rounds; i++) {
    for (const [name, on] of [['simulcast', 'true'], ['single_layer', 'false']] as const) {
      const r = await benchRecording({ peers: 4, runs: 1, measureSeconds: 15, env: { RTC_SIMULCAST: on }, cameraSize: '1280x720', publishOnly: true });
      runs[name].push({ chromium: r.cpu_cores.chromium, ffmpeg: r.cpu_cores.ffmpeg, total: r.cpu_cores.total, sent: r.sent_video });
    }
  }
  const med = (name: keyof typeof runs) => ({
    chromium: median(runs[name].map((r) => r.chromium)),
    total: median(runs[name].map((r) => r.total)),
  });
  return {
    what: 'recorder CPU (cores) recording a 4-peer room of 1280x720 cameras (peers receiving nobody) at 720p, 15 s per run, runs alternating; sent: the first peer\'s encoder at the end',
    runs,
    median: { simulcast: med('simulcast'), single_layer: med('single_layer') },
  };
}
