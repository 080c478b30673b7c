// Lip-sync probe: a camera that flashes white and a microphone that beeps 1 kHz at the same instants (every 2 s),
// and the measurement of how far apart flash and beep arrive on a meeting page (rendered frames via
// requestVideoFrameCallback, audio via an AudioWorklet); media files are measured by src/recorder/syncMeter.ts.
// Offsets are audio − video in ms: negative means the beep comes before the flash.
import type { Page } from 'playwright-core';
import { PULSE_S, SYNC_PERIOD_S, type Onsets } from '../../src/recorder/syncMeter.js';

export { SYNC_PERIOD_S, measureMedia, mediaOnsets, pairOnsets, risingEdges, summarize, type Onsets, type SyncFigures } from '../../src/recorder/syncMeter.js';

/**
 * An init script for the publisher's page: getUserMedia returns a canvas camera (dark grey, white for the
 * first 100 ms of every 2 s of the wall clock) and a WebAudio microphone (1 kHz for the same 100 ms, scheduled
 * on the audio clock). Both are anchored to the clock, so a starved browser misses or delays one pulse but
 * never falls behind for good — Chromium's looping file camera does (measured under load: its 2 s loop
 * stretched to 2.1–2.9 s while the file microphone kept time).
 */
export const SYNC_SOURCE_SCRIPT = `(() => {
  const PERIOD = ${SYNC_PERIOD_S * 1000}, PULSE = ${PULSE_S * 1000};
  navigator.mediaDevices.getUserMedia = async (c) => {
    const out = new MediaStream();
    if (c && c.video) {
      const cv = document.createElement('canvas'); cv.width = 320; cv.height = 180;
      const g = cv.getContext('2d');
      const track = cv.captureStream(0).getVideoTracks()[0];
      let lit = null;
      const paint = () => {
        const on = Date.now() % PERIOD < PULSE;
        if (on !== lit || !on) { g.fillStyle = on ? '#ffffff' : '#202020'; g.fillRect(0, 0, 320, 180); }
        lit = on;
        track.requestFrame();
      };
      paint(); setInterval(paint, 1000 / 30);
      out.addTrack(track);
    }
    if (c && c.audio) {
      const ac = new AudioContext({ sampleRate: 48000 });
      await ac.resume();
      const dest = ac.createMediaStreamDestination();
      const osc = ac.createOscillator(); osc.frequency.value = 1000;
      const gain = ac.createGain(); gain.gain.value = 0;
      osc.connect(gain).connect(dest); osc.start();
      let next = 0;
      const schedule = () => {
        // context time ↔ wall clock, then a beep at each of the next 2 s boundaries not yet scheduled
        const wallNow = Date.now(), ctxNow = ac.currentTime;
        for (let k = Math.ceil((wallNow + 50) / PERIOD); k * PERIOD < wallNow + 1500; k++) {
          if (k <= next) continue;
          const t = ctxNow + (k * PERIOD - wallNow) / 1000;
          gain.gain.setValueAtTime(0.125, t); gain.gain.setValueAtTime(0, t + PULSE / 1000);
          next = k;
        }
      };
      schedule(); setInterval(schedule, 250);
      out.addTrack(dest.stream.getAudioTracks()[0]);
    }
    return out;
  };
})();`;

/** ffmpeg lavfi sources of the pattern, `seconds` long (aevalsrc: exact to the sample, unlike a filter's enable=) */
export function flashSource(seconds: number): string {
  return `color=c=0x202020:s=640x360:r=30:d=${seconds},drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='lt(mod(t,${SYNC_PERIOD_S}),${PULSE_S})'`;
}
export function beepSource(seconds: number): string {
  return `aevalsrc='if(lt(mod(t,${SYNC_PERIOD_S}),${PULSE_S}),0.125*sin(2*PI*1000*t),0)':s=48000:d=${seconds}`;
}

// ---------- in the page

const WORKLET = `registerProcessor('roomcast-beep', class extends AudioWorkletProcessor {
  constructor() { super(); this.armedAt = 0; this.quietFrom = 0; this.armed = true; }
  process(inputs) {
    const ch = inputs[0] && inputs[0][0];
    if (!ch) return true;
    for (let i = 0; i < ch.length; i++) {
      const t = currentTime + i / sampleRate;
      if (Math.abs(ch[i]) >= 0.02) {
        if (this.armed) this.port.postMessage(t);
        this.armed = false; this.quietFrom = -1;
      } else if (!this.armed) {
        if (this.quietFrom < 0) this.quietFrom = t;
        if (t - this.quietFrom > 0.3) this.armed = true;
      }
    }
    return true;
  }
});`;

/**
 * Starts watching one peer's picture and sound on a meeting page: `peerId` = a remote peer's tile (what the
 * page renders and plays), or null = this page's own camera preview and microphone (the source, for reference).
 * Onsets are collected in window.__sync as performance.now() ms; read them with readPageOnsets.
 * The page's context needs bypassCSP (the worklet is loaded from a blob: URL).
 */
export async function startPageProbe(page: Page, peerId: string | null): Promise<void> {
  await page.evaluate(
    async ({ peerId, worklet }) => {
      const w = window as unknown as { __sync: { flashes: number[]; beeps: number[]; frames: number } ; roomcast: { pc: RTCPeerConnection } };
      const sync = (w.__sync = { flashes: [] as number[], beeps: [] as number[], frames: 0 });
      const video = document.querySelector(peerId ? `.tile[data-peer-id="${peerId}"] video` : '.tile.self video') as HTMLVideoElement;
      if (!video) throw new Error('no video element for the probe');
      let audioTrack: MediaStreamTrack | undefined;
      if (peerId) {
        const fromVideo = (video.srcObject as MediaStream | null)?.getAudioTracks()[0];
        const sinks = [...document.querySelectorAll('#audio-sink audio')] as HTMLAudioElement[];
        audioTrack = fromVideo ?? sinks.map((a) => (a.srcObject as MediaStream | null)?.getAudioTracks()[0]).find(Boolean);
      } else {
        audioTrack = w.roomcast.pc.getSenders().map((s) => s.track).find((t) => t?.kind === 'audio') ?? undefined;
      }
      if (!audioTrack) throw new Error('no audio track for the probe');
      const ac = new AudioContext();
      await ac.audioWorklet.addModule(URL.createObjectURL(new Blob([worklet], { type: 'text/javascript' })));
      const node = new AudioWorkletNode(ac, 'roomcast-beep');
      node.port.onmessage = (e) => {
        // the context time a sample is processed at is the time it is heard: map it onto performance.now()
        const ts = ac.getOutputTimestamp();
        if (ts.contextTime === undefined || ts.performanceTime === undefined) return;
        sync.beeps.push(ts.performanceTime + ((e.data as number) - ts.contextTime) * 1000);
      };
      ac.createMediaStreamSource(new MediaStream([audioTrack])).connect(node);
      // keeps the graph pulled without adding sound
      const silent = ac.createGain();
      silent.gain.value = 0;
      node.connect(silent).connect(ac.destination);
      await ac.resume();
      const canvas = document.createElement('canvas');
      canvas.width = 32;
      canvas.height = 18;
      const g = canvas.getContext('2d', { willReadFrequently: true })!;
      let armed = true;
      let darkSince = 0;
      const onFrame = (now: number, meta: { expectedDisplayTime?: number }) => {
        sync.frames++;
        g.drawImage(video, 0, 0, 32, 18);
        const px = g.getImageData(0, 0, 32, 18).data;
        let sum = 0;
        for (let i = 0; i < px.length; i += 4) sum += 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
        const luma = sum / (px.length / 4);
        const at = meta.expectedDisplayTime ?? now;
        if (luma > 140) {
          if (armed) sync.flashes.push(at);
          armed = false;
          darkSince = 0;
        } else if (!armed && luma < 100) {
          darkSince ||= at;
          if (at - darkSince > 300) armed = true;
        }
        video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
    },
    { peerId, worklet: WORKLET },
  );
}

/** The onsets collected since startPageProbe, in seconds of the wall clock (so pages can be compared). */
export async function readPageOnsets(page: Page): Promise<Onsets & { frames: number }> {
  const s = (await page.evaluate('({ ...window.__sync, origin: performance.timeOrigin })')) as { flashes: number[]; beeps: number[]; frames: number; origin: number };
  const wall = (x: number) => (s.origin + x) / 1000;
  return { flashes: s.flashes.map(wall), beeps: s.beeps.map(wall), frames: s.frames };
}

/**
 * Each measured pair minus the source's pair for the same flash: what the path adds, without the fake
 * devices' own wander (under load Chromium's file camera falls behind its file microphone). `lag` maps a
 * measured flash time onto the source's clock: the source flash is the one nearest to `lag(at)`, within 0.9 s.
 */
export function relativeToSource(measured: Array<{ at: number; offsetMs: number }>, source: Array<{ at: number; offsetMs: number }>, lag: (at: number) => number): Array<{ at: number; offsetMs: number }> {
  const out: Array<{ at: number; offsetMs: number }> = [];
  for (const m of measured) {
    const want = lag(m.at);
    let best: { at: number; offsetMs: number } | null = null;
    for (const src of source) if (Math.abs(src.at - want) < 0.9 && (!best || Math.abs(src.at - want) < Math.abs(best.at - want))) best = src;
    if (best) out.push({ at: m.at, offsetMs: m.offsetMs - best.offsetMs });
  }
  return out;
}
