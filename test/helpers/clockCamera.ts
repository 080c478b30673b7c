// A camera that shows the wall clock, and a reader for it: what a recording holds can be dated from its own
// pictures (when a machine died, what of the meeting reached the asset), not from the job's report.
// The picture: a green canvas with a 4×4 grid of black/white blocks in its middle: 15 bits of the wall clock in
// tenths of a second (it wraps every 54 min) and a parity bit. The reader finds the green (tiles are cropped
// to fill, object-fit: cover), rebuilds the whole canvas from its 16:9 shape, and reads the blocks.
import { spawn } from 'node:child_process';

const W = 320;
const H = 180;
const BITS = 15;
const TICK_MS = 100;
const WRAP_MS = 2 ** BITS * TICK_MS;
/** the grid: columns and rows of blocks, in the canvas's middle half (x) and middle two thirds (y) */
const GRID = { x0: 0.25, x1: 0.75, y0: 1 / 6, y1: 5 / 6 };

/** Init script for the publisher's page: getUserMedia gives this camera and a 440 Hz tone. */
export const CLOCK_CAMERA_SCRIPT = `(() => {
  navigator.mediaDevices.getUserMedia = async (c) => {
    const out = new MediaStream();
    if (c && c.video) {
      const cv = document.createElement('canvas'); cv.width = ${W}; cv.height = ${H};
      const g = cv.getContext('2d');
      const track = cv.captureStream(0).getVideoTracks()[0];
      const bw = ${W} * ${GRID.x1 - GRID.x0} / 4, bh = ${H} * ${GRID.y1 - GRID.y0} / 4;
      const paint = () => {
        const v = Math.floor(Date.now() / ${TICK_MS}) % ${2 ** BITS};
        let parity = 0;
        g.fillStyle = '#00ff00'; g.fillRect(0, 0, ${W}, ${H});
        for (let i = 0; i < 16; i++) {
          const bit = i < ${BITS} ? (v >> (${BITS - 1} - i)) & 1 : parity;
          parity ^= bit;
          g.fillStyle = bit ? '#ffffff' : '#000000';
          g.fillRect(${W * GRID.x0} + (i % 4) * bw, ${H * GRID.y0} + Math.floor(i / 4) * bh, bw, bh);
        }
        track.requestFrame();
      };
      paint(); setInterval(paint, 1000 / 15);
      out.addTrack(track);
    }
    if (c && c.audio) {
      const ac = new AudioContext({ sampleRate: 48000 });
      await ac.resume();
      const dest = ac.createMediaStreamDestination();
      const osc = ac.createOscillator(); osc.frequency.value = 440;
      const gain = ac.createGain(); gain.gain.value = 0.2;
      osc.connect(gain).connect(dest); osc.start();
      out.addTrack(dest.stream.getAudioTracks()[0]);
    }
    return out;
  };
})();`;

/**
 * The wall clock (epoch ms, to the tenth of a second) a frame shows, or null (no clock camera in it, or a
 * block that is neither clearly black nor white, or a parity that does not match). `nearMs` picks the wrap.
 */
export function readClock(rgb: Buffer, width: number, height: number, nearMs: number): number | null {
  let minX = width, maxX = -1, minY = height, maxY = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      if (rgb[i + 1] > 150 && rgb[i] < 110 && rgb[i + 2] < 110) {
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        if (y > maxY) maxY = y;
      }
    }
  }
  if (maxX - minX < 40 || maxY - minY < 24) return null;
  // the whole canvas behind the visible (cropped) part: cover crops evenly on both sides of one axis
  let cx = (minX + maxX + 1) / 2, cy = (minY + maxY + 1) / 2, cw = maxX - minX + 1, ch = maxY - minY + 1;
  if (cw / ch > W / H) ch = (cw * H) / W;
  else cw = (ch * W) / H;
  const left = cx - cw / 2, top = cy - ch / 2;
  let v = 0;
  let parity = 0;
  for (let i = 0; i < 16; i++) {
    const fx = GRID.x0 + ((i % 4) + 0.5) * ((GRID.x1 - GRID.x0) / 4);
    const fy = GRID.y0 + (Math.floor(i / 4) + 0.5) * ((GRID.y1 - GRID.y0) / 4);
    const px = Math.round(left + fx * cw), py = Math.round(top + fy * ch);
    let sum = 0, n = 0;
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const x = px + dx, y = py + dy;
        if (x < 0 || y < 0 || x >= width || y >= height) continue;
        const j = (y * width + x) * 3;
        sum += 0.299 * rgb[j] + 0.587 * rgb[j + 1] + 0.114 * rgb[j + 2];
        n++;
      }
    }
    const luma = n ? sum / n : 128;
    if (luma > 70 && luma < 180) return null;
    const bit = luma >= 180 ? 1 : 0;
    if (i < BITS) {
      v = (v << 1) | bit;
      parity ^= bit;
    } else if (bit !== parity) return null;
  }
  const base = v * TICK_MS;
  const k = Math.round((nearMs - base) / WRAP_MS);
  return base + k * WRAP_MS;
}

/** One decoded frame: its time in the file (s) and the wall clock it shows (null: unreadable). */
export interface ClockFrame {
  at: number;
  wallMs: number | null;
}

/** Every frame of `file` at `fps`, dated by the clock camera it shows. */
export function readClocks(file: string, nearMs: number, fps = 5, width = 640, height = 360): Promise<ClockFrame[]> {
  return new Promise((resolve, reject) => {
    const ff = spawn('ffmpeg', ['-v', 'error', '-i', file, '-an', '-vf', `fps=${fps},scale=${width}:${height}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let err = '';
    ff.stdout.on('data', (c: Buffer) => chunks.push(c));
    ff.stderr.on('data', (c: Buffer) => (err += c.toString()));
    ff.on('error', reject);
    ff.on('close', (code) => {
      if (code !== 0) return reject(new Error(`ffmpeg ${code}: ${err}`));
      const all = Buffer.concat(chunks);
      const size = width * height * 3;
      const out: ClockFrame[] = [];
      for (let i = 0; (i + 1) * size <= all.length; i++) out.push({ at: i / fps, wallMs: readClock(all.subarray(i * size, (i + 1) * size), width, height, nearMs) });
      resolve(out);
    });
  });
}
