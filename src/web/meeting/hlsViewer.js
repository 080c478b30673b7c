// The HLS viewer of the meeting page: a role that neither publishes nor subscribes (e.g. 'hls-viewer') watches
// the room's live stream with hls.js instead of WebRTC media. It asks the server for the playback URL with
// the page's app token, waits while no stream is running, plays when one is, and waits again when it ends.
// State for tests and the page: document.body.dataset.hls = 'waiting' | 'playing' | 'ended'.

const POLL_MS = 3000;
let hlsLoaded = null;

/** hls.js, served by this server (script-src 'self'). */
function loadHlsJs() {
  hlsLoaded ??= new Promise((resolve, reject) => {
    if (window.Hls) return resolve(window.Hls);
    const s = document.createElement('script');
    s.src = '/vendor/hls.min.js';
    s.onload = () => (window.Hls ? resolve(window.Hls) : reject(new Error('hls.js did not load')));
    s.onerror = () => reject(new Error('hls.js could not be loaded'));
    document.head.append(s);
  });
  return hlsLoaded;
}

/**
 * @param {{ roomId: string, token: string, container: HTMLElement, notice: HTMLElement }} o
 * @returns {{ stop(): void }}
 */
export function startHlsViewer({ roomId, token, container, notice }) {
  const video = document.createElement('video');
  video.id = 'hls-video';
  video.controls = true;
  video.playsInline = true;
  video.autoplay = true;
  video.hidden = true;
  video.setAttribute('aria-label', 'Live stream');
  // CSSOM, not a style attribute: the page's CSP allows only its own stylesheet
  Object.assign(video.style, { flex: '1', minWidth: '0', maxHeight: '100%', background: '#000' });
  container.append(video);
  let stopped = false;
  let hls = null;
  let timer = null;
  let current = null;

  const setState = (s, text) => {
    document.body.dataset.hls = s;
    notice.hidden = s === 'playing';
    if (text) notice.textContent = text;
    video.hidden = s !== 'playing';
  };

  const teardown = () => {
    hls?.destroy();
    hls = null;
    current = null;
    video.removeAttribute('src');
    video.load();
  };

  const waitAgain = (text) => {
    teardown();
    setState('waiting', text);
    schedule();
  };

  const schedule = () => {
    if (!stopped) timer = setTimeout(poll, POLL_MS);
  };

  async function play(url) {
    current = url;
    const startPlayback = () =>
      video.play().catch(() => {
        // no user gesture for sound: start muted, the controls unmute
        video.muted = true;
        return video.play().catch(() => undefined);
      });
    if (video.canPlayType('application/vnd.apple.mpegurl') && !window.MediaSource) {
      video.src = url;
    } else {
      const Hls = await loadHlsJs();
      if (stopped) return;
      hls = new Hls({ enableWorker: false, lowLatencyMode: false });
      hls.on(Hls.Events.ERROR, (_e, data) => {
        if (!data.fatal) return;
        window.roomcastHlsErrors = [...(window.roomcastHlsErrors ?? []), `${data.type}: ${data.details}`];
        waitAgain('The live stream was interrupted. Reconnecting…');
      });
      hls.loadSource(url);
      hls.attachMedia(video);
    }
    setState('playing');
    startPlayback();
  }

  async function poll() {
    if (stopped) return;
    try {
      const res = await fetch(`/live/room/${encodeURIComponent(roomId)}/playback`, { headers: { authorization: `Bearer ${token}` } });
      if (res.ok) {
        const body = await res.json();
        if (body.status === 'running' && body.playback_url !== current) {
          teardown();
          await play(body.playback_url);
        }
      } else if (current) {
        waitAgain('The live stream has ended.');
        return;
      }
    } catch {
      // network hiccup: try again on the next round
    }
    schedule();
  }

  video.addEventListener('ended', () => {
    teardown();
    setState('ended', 'The live stream has ended.');
    schedule();
  });

  setState('waiting', 'Waiting for the live stream to start…');
  poll();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      teardown();
      video.remove();
      delete document.body.dataset.hls;
    },
  };
}
