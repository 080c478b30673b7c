// The recorder's stage: a private Xvfb + PulseAudio pair and a headful Chromium showing the meeting page,
// joined. A composite recording and a live stream film the same stage with different encoder outputs.
import type { Logger } from '../logger.js';
import { startDisplay, type RecorderDisplay } from './display.js';
import { describeExit } from './proc.js';
import { launchRecorderBrowser, type RecorderBrowser } from './browser.js';

/** The meeting page sets this once joined and rendering (src/web/meeting/meeting.js). */
export const JOINED_SIGNAL = { selector: 'body[data-joined="true"]' };
/** …and this once the remote pictures show (the page gives up waiting for them after 5 s). */
export const MEDIA_READY_SIGNAL = { selector: 'body[data-media-ready="true"]' };
/** Other meeting pages (a custom meeting_url) may not set it: film them after this long anyway. */
const MEDIA_READY_WAIT_MS = 6000;

export interface StageOptions {
  url: string;
  size: { width: number; height: number };
  allowedHosts: string[];
  joinTimeoutMs: number;
  log: Logger;
}

export interface Stage {
  display: RecorderDisplay;
  browser: RecorderBrowser;
  /** resolves with a reason if Xvfb, PulseAudio or Chromium dies on its own */
  crashed: Promise<string>;
  /** the caller's own crash reports (e.g. its encoder) go through here too */
  reportCrash(reason: string): void;
  /** browser, then display; idempotent */
  close(): Promise<void>;
}

export async function openStage(opts: StageOptions): Promise<Stage> {
  let reportCrash!: (reason: string) => void;
  const crashed = new Promise<string>((resolve) => {
    reportCrash = resolve;
  });
  let display: RecorderDisplay | null = null;
  let browser: RecorderBrowser | null = null;
  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      await browser?.stop().catch(() => undefined);
      await display?.stop().catch(() => undefined);
    })();
    return closing;
  };
  const t0 = Date.now();
  const at: Record<string, number> = {};
  try {
    display = await startDisplay({ ...opts.size, logger: opts.log });
    at.display_ms = Date.now() - t0;
    display.onExit((which, info) => reportCrash(describeExit(which === 'xvfb' ? 'Xvfb' : 'PulseAudio', info)));
    browser = await launchRecorderBrowser({ url: opts.url, display, size: opts.size, allowedHosts: opts.allowedHosts, logger: opts.log });
    browser.onExit((e) => reportCrash(e.reason === 'exited' ? describeExit('chromium', e, e.lines) : `chromium ${e.reason === 'page-crashed' ? 'page crashed' : 'lost its DevTools connection'}`));
    at.browser_ms = Date.now() - t0;
    await browser.waitForSignal(JOINED_SIGNAL, opts.joinTimeoutMs);
    at.joined_ms = Date.now() - t0;
    await browser.waitForSignal(MEDIA_READY_SIGNAL, MEDIA_READY_WAIT_MS).catch(() => opts.log.warn('the meeting page did not report its media ready; filming anyway'));
    at.media_ready_ms = Date.now() - t0;
    // where a slow start goes: display, browser + page load, join, remote pictures
    opts.log.info(at, 'recorder stage ready');
  } catch (err) {
    await close();
    throw err;
  }
  return { display, browser, crashed, reportCrash, close };
}
