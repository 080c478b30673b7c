// Short ffmpeg/ffprobe jobs on finished files: how long a file is, and joining segments without re-encoding.
import { rmSync, writeFileSync } from 'node:fs';
import { probe } from './probe.js';
import { runTool } from './proc.js';
import { FFMPEG_PATH } from './encoder.js';

export interface MediaTools {
  /** duration in seconds (float) of a media file */
  durationOf(file: string): Promise<number>;
  /** joins MP4 or MPEG-TS segments into one MP4 without re-encoding */
  joinSegments(segments: string[], out: string): Promise<void>;
}

export const ffmpegMediaTools: MediaTools = {
  durationOf: async (file) => (await probe(file)).duration,
  async joinSegments(segments, out) {
    const list = `${out}.txt`;
    writeFileSync(list, segments.map((s) => `file '${s.replace(/'/g, "'\\''")}'`).join('\n') + '\n');
    try {
      // concat demuxer: each segment's timestamps follow the previous one's end, so left-out (paused) spans
      // leave no hole; ADTS (from MPEG-TS) → MP4 AAC; moov first for progressive download
      await runTool(
        FFMPEG_PATH,
        ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'concat', '-safe', '0', '-i', list, '-map', '0', '-c', 'copy', '-bsf:a', 'aac_adtstoasc', '-movflags', '+faststart', out],
        Math.max(120_000, segments.length * 200),
      );
    } finally {
      rmSync(list, { force: true });
    }
  },
};
