// Still picture in a recording (ffmpeg freezedetect): how long it stands still at the end (a capture that went on
// filming a page whose meeting had stopped ends on a frozen picture), and where else it stood still.
import { runTool } from '../../src/recorder/proc.js';
import { probe } from '../../src/recorder/probe.js';

/** Seconds of still picture up to the end of the file (0 when it moves until the end). */
export async function frozenTailSeconds(file: string, noiseDb = -50): Promise<number> {
  const { duration } = await probe(file);
  const { stderr } = await runTool('ffmpeg', ['-hide_banner', '-nostats', '-i', file, '-map', '0:v:0', '-vf', `freezedetect=n=${noiseDb}dB:d=0.3`, '-f', 'null', '-'], 300_000);
  const starts = [...stderr.matchAll(/freeze_start: ([\d.]+)/g)].map((m) => Number(m[1]));
  const ends = [...stderr.matchAll(/freeze_end: ([\d.]+)/g)].map((m) => Number(m[1]));
  const last = starts.at(-1);
  // a freeze still open at the end of the file has a start and no end
  if (last === undefined || ends.length === starts.length) return 0;
  return duration - last;
}

/**
 * The still spans (start and length, seconds) of at least `minSeconds` in the file's picture, or in the part `crop`
 * selects (an ffmpeg crop, e.g. "iw/2:ih:0:0": one tile of a composite); one still up to the end counts too.
 */
export async function stillSpans(file: string, minSeconds: number, crop?: string, noiseDb = -50): Promise<Array<{ at: number; seconds: number }>> {
  const { duration } = await probe(file);
  const filters = [...(crop ? [`crop=${crop}`] : []), `freezedetect=n=${noiseDb}dB:d=${minSeconds}`].join(',');
  const { stderr } = await runTool('ffmpeg', ['-hide_banner', '-nostats', '-i', file, '-map', '0:v:0', '-vf', filters, '-f', 'null', '-'], 300_000);
  const starts = [...stderr.matchAll(/freeze_start: ([\d.]+)/g)].map((m) => Number(m[1]));
  const durations = [...stderr.matchAll(/freeze_duration: ([\d.]+)/g)].map((m) => Number(m[1]));
  return starts.map((at, i) => ({ at, seconds: durations[i] ?? duration - at }));
}
