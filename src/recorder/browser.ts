// The recorder's browser: a headful Chromium in the job's Xvfb, one borderless window filling the screen,
// playing audio into the job's PulseAudio sink.
//
// We spawn /usr/bin/chromium ourselves and drive it with playwright-core's connectOverCDP rather than
// launchPersistentContext: we own the exact command line (Playwright adds --enable-automation, whose
// "controlled by automated software" bar would be recorded), we know the PID and its process group (stop()
// and the crash callback work on the real process), and Playwright stays a protocol client only.
//
// Allowed hosts are enforced in three places: the start URL is checked before anything is spawned; every
// HTTP request (navigations, sub-resources, popups) from a host not on the list is aborted by a
// context-wide route; WebSockets to other hosts are closed by a WebSocket route. Host names outside the
// list do not even resolve (--host-resolver-rules), which also covers anything the routes cannot see.
import { mkdtempSync, existsSync, readFileSync, unlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Logger } from '../logger.js';
import { redactUrl } from '../logger.js';
import { allowedUrlMatcher, isAllowedUrl, parseHostRule } from '../domain/allowedHosts.js';
import { spawnOwned, trackTempDir, type OwnedProcess, type ExitInfo } from './proc.js';

export const CHROMIUM_PATH = '/usr/bin/chromium';
/** PulseAudio buffer of the browser's sound output (see the spawn below) */
const CHROMIUM_PULSE_LATENCY_MS = 40;

export interface RecorderBrowserOptions {
  url: string;
  /** the job's display: DISPLAY and PULSE_* for the browser's environment */
  display: { env: Record<string, string> };
  size: { width: number; height: number };
  /** "host:port" or "host" (the scheme's default port), see domain/allowedHosts.ts */
  allowedHosts: string[];
  /** profile directory; a fresh temporary one (removed on stop) when omitted */
  userDataDir?: string;
  logger: Logger;
  executablePath?: string;
  extraArgs?: string[];
  /** ms for the browser to come up and the start page to load (default 30 s) */
  launchTimeoutMs?: number;
  /** the process died, or the page crashed, without stop() */
  onExit?: (event: BrowserExit) => void;
}

export interface BrowserExit {
  reason: 'exited' | 'page-crashed' | 'disconnected';
  code: number | null;
  signal: NodeJS.Signals | null;
  /** its last stderr lines, D-Bus chatter left out (exited only) */
  lines?: string[];
}

/** Chromium's stderr without the D-Bus complaints every headful start prints. */
function stderrLines(tail: string): string[] {
  return tail.split('\n').filter((l) => l && !/dbus|unexpected operator/i.test(l));
}

/** A JavaScript expression that becomes truthy, or a CSS selector that gets attached. */
export type RecorderSignal = { js: string } | { selector: string };

export interface RecorderBrowser {
  pid: number;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** requests and WebSockets refused because of their host (last 100) */
  blocked: string[];
  /** the page's innerWidth/innerHeight at launch; equals `size` when nothing but the page is captured */
  viewport: { width: number; height: number };
  waitForSignal(signal: RecorderSignal, timeoutMs: number): Promise<void>;
  onExit(listener: (event: BrowserExit) => void): () => void;
  /** Browser.close over CDP, then SIGTERM to the process group, then SIGKILL. Idempotent. */
  stop(): Promise<ExitInfo>;
}

export { allowedUrlMatcher, isAllowedUrl };

export class HostNotAllowedError extends Error {
  constructor(readonly url: string) {
    super(`recorder may not open ${redactUrl(url)}: host not in the allowed list`);
  }
}

function baseArgs(size: { width: number; height: number }, hostnames: string[], userDataDir: string): string[] {
  // Hosts outside the list resolve to nothing (chromium applies the rules to IP literals too); the routes
  // catch what the resolver cannot tell apart (another port on an allowed host).
  const resolver = ['MAP * ~NOTFOUND', ...hostnames.map((h) => `EXCLUDE ${h}`)].join(', ');
  return [
    // ground rules for chromium as root on these machines
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${userDataDir}`,
    // nothing but the page may ever be visible in the capture
    '--test-type',
    '--disable-infobars',
    '--hide-scrollbars',
    '--noerrdialogs',
    '--disable-session-crashed-bubble',
    '--no-default-browser-check',
    '--deny-permission-prompts',
    '--disable-notifications',
    '--disable-features=Translate,MediaRouter,GlobalMediaControls',
    // an app window (never a tab strip or address bar, also when it navigates) in kiosk mode; it starts on
    // an empty data: page (--app ignores about:blank) so the routes are in place before the real page loads
    '--kiosk',
    '--app=data:text/html,',
    '--window-position=0,0',
    `--window-size=${size.width},${size.height}`,
    '--force-device-scale-factor=1',
    // no window manager in Xvfb: chromium must never treat the window as hidden and throttle it
    '--disable-renderer-backgrounding',
    '--disable-background-timer-throttling',
    '--disable-backgrounding-occluded-windows',
    '--autoplay-policy=no-user-gesture-required',
    '--password-store=basic',
    `--host-resolver-rules=${resolver}`,
    '--remote-debugging-address=127.0.0.1',
    '--remote-debugging-port=0',
  ];
}

export async function launchRecorderBrowser(opts: RecorderBrowserOptions): Promise<RecorderBrowser> {
  const { logger, size } = opts;
  const allowed = allowedUrlMatcher(opts.allowedHosts);
  const hostnames = [...new Set(opts.allowedHosts.map((h) => parseHostRule(h).hostname))];
  // Refused before anything is spawned.
  if (hostnames.length === 0 || !/^https?:\/\//i.test(opts.url) || !allowed(opts.url)) {
    throw new HostNotAllowedError(opts.url);
  }
  const timeoutMs = opts.launchTimeoutMs ?? 30_000;
  const ownDir = opts.userDataDir === undefined;
  const userDataDir = opts.userDataDir ?? mkdtempSync(join(tmpdir(), 'roomcast-chromium-'));
  const removeDir = ownDir ? trackTempDir(userDataDir) : () => {};
  mkdirSync(userDataDir, { recursive: true });
  const portFile = join(userDataDir, 'DevToolsActivePort');
  if (existsSync(portFile)) unlinkSync(portFile); // a previous run's port would mislead us

  const proc = spawnOwned({
    name: 'chromium',
    command: opts.executablePath ?? CHROMIUM_PATH,
    args: [...baseArgs(size, hostnames, userDataDir), ...(opts.extraArgs ?? [])],
    // A short, fixed output buffer: left to itself Chromium's PulseAudio stream grew its latency under load, and
    // what sat in that buffer reached the capture that much after the picture (audio up to ~0.6 s late)
    env: { ...process.env, ...opts.display.env, PULSE_LATENCY_MSEC: String(CHROMIUM_PULSE_LATENCY_MS) },
    logger,
    stderrLines: 40,
    onStderrLine: (line) => logger.trace({ chromium: line }),
  });

  const listeners = new Set<(e: BrowserExit) => void>();
  if (opts.onExit) listeners.add(opts.onExit);
  let stopping: Promise<ExitInfo> | null = null;
  let reported = false;
  const report = (e: BrowserExit) => {
    if (stopping || reported) return;
    reported = true;
    logger.error({ ...e }, 'recorder browser failed');
    for (const l of listeners) l(e);
  };
  proc.onExit((info, expected) => {
    if (!expected) report({ reason: 'exited', ...info, lines: stderrLines(proc.stderrTail()) });
  });

  let browser: Browser | null = null;
  const cleanupAfterFailure = async () => {
    stopping = Promise.resolve({ code: null, signal: null });
    await browser?.close().catch(() => {});
    await proc.stop([
      { action: 'SIGTERM', waitMs: 3000 },
      { action: 'SIGKILL', waitMs: 3000 },
    ]);
    removeDir();
  };

  try {
    const deadline = Date.now() + timeoutMs;
    const wsEndpoint = await readDevToolsEndpoint(portFile, proc, deadline);
    browser = await chromium.connectOverCDP(wsEndpoint, { timeout: Math.max(1000, deadline - Date.now()) });
    const context = browser.contexts()[0] ?? (await browser.newContext());
    const page = context.pages()[0] ?? (await context.waitForEvent('page', { timeout: Math.max(1000, deadline - Date.now()) }));

    const blocked: string[] = [];
    const noteBlocked = (url: string, kind: string) => {
      blocked.push(url);
      if (blocked.length > 100) blocked.shift();
      logger.warn({ url: redactUrl(url), kind }, 'recorder blocked a host not in the allowed list');
    };
    await context.route(
      (url) => !allowed(url),
      (route) => {
        noteBlocked(route.request().url(), 'request');
        return route.abort('blockedbyclient');
      },
    );
    await context.routeWebSocket(
      (url) => !allowed(url),
      (ws) => {
        noteBlocked(ws.url(), 'websocket');
        return ws.close({ code: 1008, reason: 'host not allowed' });
      },
    );
    page.on('crash', () => report({ reason: 'page-crashed', code: null, signal: null }));
    // A dying browser drops the CDP socket just before its process exit is seen: give the exit a moment so
    // the report says what happened; a browser alive without its CDP connection is reported as such.
    browser.on('disconnected', () => {
      void Promise.race([proc.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 2000))]).then((exited) => {
        if (!exited) report({ reason: 'disconnected', code: null, signal: null });
      });
    });

    const viewport = await checkViewport(page, size, logger);
    const response = await page.goto(opts.url, { waitUntil: 'domcontentloaded', timeout: Math.max(1000, deadline - Date.now()) });
    logger.info({ url: redactUrl(opts.url), status: response?.status(), pid: proc.pid }, 'recorder browser opened the page');

    const b = browser;
    return {
      pid: proc.pid,
      browser: b,
      context,
      page,
      blocked,
      viewport,
      async waitForSignal(signal, waitMs) {
        const waiting =
          'js' in signal
            ? page.waitForFunction(signal.js, undefined, { timeout: waitMs, polling: 200 }).then(() => undefined)
            : page.waitForSelector(signal.selector, { state: 'attached', timeout: waitMs }).then(() => undefined);
        const died = proc.exited.then((info) => {
          throw new Error(`browser exited (${info.signal ?? info.code}) while waiting for ${JSON.stringify(signal)}`);
        });
        died.catch(() => {});
        await Promise.race([waiting, died]);
      },
      onExit(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      stop() {
        stopping ??= (async () => {
          // CDP Browser.close first (a clean shutdown; Playwright's close() of a CDP connection only
          // disconnects), then signals to the process group if chromium hangs.
          const closeOverCdp = async () => {
            const session = await b.newBrowserCDPSession();
            await session.send('Browser.close');
          };
          const info = await proc.stop([
            { action: () => void closeOverCdp().catch(() => {}), waitMs: 5000 },
            { action: 'SIGTERM', waitMs: 5000 },
            { action: 'SIGKILL', waitMs: 3000 },
          ]);
          await b.close().catch(() => {});
          removeDir();
          return info;
        })();
        return stopping;
      },
    };
  } catch (err) {
    const tail = stderrLines(proc.stderrTail()).slice(-10).join('\n');
    await cleanupAfterFailure();
    if (err instanceof Error && tail) err.message += `\nchromium stderr:\n${tail}`;
    throw err;
  }
}

/** Waits for the DevToolsActivePort file chromium writes once its debugging port listens. */
async function readDevToolsEndpoint(portFile: string, proc: OwnedProcess, deadline: number): Promise<string> {
  while (Date.now() < deadline) {
    if (!proc.alive()) throw new Error(`chromium exited during launch (${JSON.stringify(proc.exitInfo)})`);
    if (existsSync(portFile)) {
      const [port, path] = readFileSync(portFile, 'utf8').split('\n');
      if (port && path) return `ws://127.0.0.1:${port.trim()}${path.trim()}`;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('chromium did not open its debugging port in time');
}

/**
 * The viewport must be exactly the captured rectangle. startDisplay's larger screen makes chromium honour
 * --window-size; resizing a kiosk window from here would drop it out of kiosk mode (tab strip and address
 * bar appear in the capture, measured), so a mismatch is only reported.
 */
async function checkViewport(page: Page, size: { width: number; height: number }, logger: Logger): Promise<{ width: number; height: number }> {
  const got = await page.evaluate(() => ({ width: window.innerWidth, height: window.innerHeight }));
  if (got.width !== size.width || got.height !== size.height) {
    logger.warn({ want: size, got }, 'browser viewport does not match the capture size (screen as large as the window?)');
  }
  return got;
}
