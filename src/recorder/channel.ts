// The typed channel between the recorder worker and a job's handler process (recorder/handler.ts): one JSON
// object per line over the handler's stdin (to it) and stdout (from it). The capture spec travels as the first
// message, not on the command line: it holds the recorder's join token.
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { CaptureSpec, EncoderRestart } from './jobSpec.js';
import type { JobProcesses } from './leftovers.js';

export type ToHandler =
  | { type: 'start'; spec: CaptureSpec; logLevel: string }
  | { type: 'stop' }
  | { type: 'pause' }
  | { type: 'resume' }
  /** timed metadata for the running job (the VOD gets it from the database at finalise) */
  | { type: 'metadata'; payload: string };

/** A process the handler owns, as proc.ts tracks it (name: xvfb, pulseaudio, chromium, ffmpeg). */
export interface OwnedPid {
  name: string;
  pid: number;
}

export type FromHandler =
  /** the stage is up and the encoder started; again whenever the processes change (a resume's new encoder) */
  | { type: 'progress'; processes: JobProcesses; owned: OwnedPid[]; tempDirs: string[] }
  /** the encoder wrote its first frame */
  | { type: 'started'; at: string }
  /** the encoder died and was started again (the capture goes on) */
  | { type: 'restarted'; restart: EncoderRestart }
  /** a process of the capture died on its own */
  | { type: 'crashed'; reason: string }
  /** after a stop (or a launch that failed, with `error`); the handler exits next */
  | { type: 'finished'; files: string[]; graceful: boolean; error?: string }
  /** one pino line of the handler, for the worker's logger */
  | { type: 'log'; line: string };

/** Calls `onMessage` for every line read from `input` that parses as a message; ends with the stream. */
export function readMessages<T extends { type: string }>(input: Readable, onMessage: (m: T) => void): Promise<void> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (!line.trim()) return;
    let m: unknown;
    try {
      m = JSON.parse(line);
    } catch {
      return; // not ours (a stray print): the channel carries JSON objects only
    }
    if (m && typeof m === 'object' && typeof (m as { type?: unknown }).type === 'string') onMessage(m as T);
  });
  return new Promise((resolve) => lines.once('close', resolve));
}

/** A writer of messages; writes after the other end went away are dropped. */
export function messageWriter<T extends { type: string }>(output: Writable): (m: T) => void {
  output.on('error', () => undefined);
  return (m) => {
    if (!output.writable) return;
    output.write(`${JSON.stringify(m)}\n`);
  };
}
