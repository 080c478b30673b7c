// Video players: HLS through hls.js (its light build, loaded on first use only) or the browser's own HLS
// support; MP4 through a plain <video>.
import { h } from './dom.js';

const HLS_SRC = '/dashboard/vendor/hls.light.min.js';
let hlsLoading = null;

function loadHls() {
  hlsLoading ??= new Promise((resolve, reject) => {
    if (window.Hls) return resolve(window.Hls);
    const s = h('script', { src: HLS_SRC, async: true });
    s.addEventListener('load', () => (window.Hls ? resolve(window.Hls) : reject(new Error('hls.js did not load'))));
    s.addEventListener('error', () => {
      hlsLoading = null;
      reject(new Error(`could not load ${HLS_SRC}`));
    });
    document.head.append(s);
  });
  return hlsLoading;
}

/** An HLS player for `url`: {el, url, video, destroy()}. */
export function hlsPlayer(url, { label = 'HLS player', live = false } = {}) {
  const video = h('video', { controls: true, muted: live, autoplay: live, playsinline: true, 'aria-label': label, class: 'player' });
  video.muted = live;
  const status = h('p', { class: 'muted small player-status', 'aria-live': 'polite' }, 'Loading player…');
  const el = h('div', { class: 'player-box' }, video, status);
  let hls = null;
  let destroyed = false;
  (async () => {
    try {
      const Hls = await loadHls();
      if (destroyed) return;
      if (Hls.isSupported()) {
        hls = new Hls({ lowLatencyMode: true, liveDurationInfinity: true });
        hls.on(Hls.Events.MANIFEST_PARSED, (_e, data) => {
          status.textContent = `${data.levels.length} layer(s): ${data.levels.map((l) => `${l.width}×${l.height}`).join(', ')}`;
          if (live) video.play().catch(() => {});
        });
        hls.on(Hls.Events.ERROR, (_e, data) => {
          if (data.fatal) {
            status.textContent = `Playback error: ${data.details}`;
            el.dataset.error = data.details;
            // a live playlist may not be ready yet: try again shortly
            if (data.type === Hls.ErrorTypes.NETWORK_ERROR) setTimeout(() => !destroyed && hls?.startLoad(), 2000);
            else if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls?.recoverMediaError();
          }
        });
        hls.loadSource(url);
        hls.attachMedia(video);
        return;
      }
    } catch (err) {
      status.textContent = `${err.message}; trying the browser's own HLS support`;
    }
    if (video.canPlayType('application/vnd.apple.mpegurl')) {
      video.src = url;
      status.textContent = '';
    } else status.textContent = 'This browser cannot play HLS.';
  })();
  video.addEventListener('playing', () => {
    el.dataset.playing = 'true';
  });
  return {
    el,
    url,
    video,
    destroy() {
      destroyed = true;
      hls?.destroy();
      video.removeAttribute('src');
      video.load();
    },
  };
}

/** A plain player for an MP4 URL. */
export function mp4Player(url, label) {
  const video = h('video', { controls: true, preload: 'metadata', playsinline: true, src: url, 'aria-label': label, class: 'player' });
  return { el: h('div', { class: 'player-box' }, video), video, destroy: () => video.removeAttribute('src') };
}
