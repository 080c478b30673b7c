// roomcast meeting page: preview, then the room over one WebSocket (/ws) and one RTCPeerConnection.
// The server makes every offer; this page only answers (see src/sfu/peer.ts).
//
// URL forms: /meeting/<room_code>  ·  /preview/<room_id>/<role>?auth_token=<app token>
// Query: skip_preview=true (straight in, no header or controls: the recorder's view), skip_preview_headful=true
// (straight in, header and controls), auth_token, ui_mode=activespeaker, name, userId.
// When joined and rendering: document.body.dataset.joined = 'true'; once the remote pictures show (or 5 s
// later), document.body.dataset.mediaReady = 'true' (the recorder waits for both).
// A dropped connection (network, server restart) is not the end: the page joins again on its own with the same
// token (0.5 s, then doubling up to 5 s between tries, for as long as it is open), publishes again and
// receives again; document.body.dataset.reconnecting = 'true' meanwhile. A media path lost while the socket stays
// (a network change) is restarted (ICE restart asked of the server), showing "Reconnecting…" the same way.

import { startHlsViewer } from './hlsViewer.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const parts = location.pathname.split('/').filter(Boolean).map(decodeURIComponent);
const flag = (name) => (params.get(name) ?? '').toLowerCase() === 'true';

const opts = {
  code: parts[0] === 'meeting' ? parts[1] : null,
  roomId: parts[0] === 'preview' ? parts[1] : undefined,
  role: parts[0] === 'preview' ? parts[2] : undefined,
  authToken: params.get('auth_token'),
  skip: flag('skip_preview') || flag('skip_preview_headful'),
  bare: flag('skip_preview') && !flag('skip_preview_headful'),
  activeSpeaker: params.get('ui_mode') === 'activespeaker',
  name: params.get('name'),
  userId: params.get('userId') ?? params.get('user_id'),
};

const state = {
  token: null,
  ws: null,
  pc: null,
  peerId: null,
  role: null,
  room: null,
  joined: false,
  leaving: false,
  /** the name joined with, for joining again */
  name: '',
  /** a reconnect loop is running */
  reconnecting: false,
  /** local tracks by cid (the MediaStreamTrack id) */
  local: new Map(),
  /** cid → server track id, once the server has an m-line for it */
  trackIds: new Map(),
  /** cid → muted */
  muted: new Map(),
  cameraOn: true,
  micOn: true,
  screenCid: null,
  /** mid → what it carries (from the last offer) */
  mids: {},
  /** peer id → tile */
  tiles: new Map(),
  /** track id → {peer_id, kind, muted} for remote tracks */
  tracks: new Map(),
  /** track id → screen tile */
  screens: new Map(),
  speaking: [],
  featured: null,
  featuredAt: 0,
  offers: Promise.resolve(),
  /** false once the browser refused to autoplay with sound (until the "Enable sound" click) */
  soundOn: true,
  firstFrameAt: 0,
};

// ---------- small UI helpers

function show(section) {
  for (const id of ['notice', 'preview', 'room', 'left']) $(id).hidden = id !== section;
}

function setStatus(text) {
  $('status').textContent = text;
}

function fail(message, retry = false) {
  document.body.dataset.error = message;
  $('notice-text').textContent = message;
  $('notice-retry').hidden = !retry;
  show('notice');
  $('controls').hidden = true;
}

function initials(name) {
  return (name || '?').split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join('') || '?';
}

// ---------- token

async function getToken() {
  if (opts.authToken) return opts.authToken;
  if (!opts.code) throw new Error('This link needs an auth_token to join the room.');
  const body = { code: opts.code };
  if (opts.userId) body.user_id = opts.userId;
  const res = await fetch('/v2/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const data = await res.json().catch(() => ({}));
  if (res.status === 404) throw new Error('This meeting link is not valid.');
  if (res.status === 403) throw new Error(`You cannot join this meeting: ${(data.message || 'forbidden').toLowerCase()}.`);
  if (!res.ok || !data.token) throw new Error(`Could not get a token (${res.status}).`);
  return data.token;
}

// ---------- signaling

/** between reconnect tries: the first wait, doubled each time up to the last */
const RECONNECT_FIRST_MS = 500;
/** a media connection "disconnected" this long gets an ICE restart; one that does not come back, another this often */
const ICE_RESTART_AFTER_MS = 1500;
const ICE_RESTART_EVERY_MS = 5000;
const RECONNECT_MAX_MS = 5000;
/** a server that took the socket but does not answer the join within this is tried again */
const REJOIN_TIMEOUT_MS = 15000;
/** refusals that another try would not change (a 503, a server shutting down, is tried again) */
const FINAL_REFUSALS = [401, 403, 404];

function connect() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error('Could not reach the meeting server.'));
    ws.onmessage = (e) => {
      if (ws === state.ws) onMessage(JSON.parse(e.data));
    };
    // a socket given up on (a failed try, a replaced one) closes without consequence
    ws.onclose = (e) => {
      if (ws === state.ws) onClose(e);
    };
  });
}

function send(msg) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(msg));
}

/** one reply of the given type (or an error) */
const waiters = [];
function waitFor(type) {
  return new Promise((resolve, reject) => waiters.push({ type, resolve, reject }));
}

function onMessage(msg) {
  const w = waiters.findIndex((x) => x.type === msg.type || msg.type === 'error');
  if (w >= 0 && (msg.type !== 'error' || !state.joined)) {
    const [waiter] = waiters.splice(w, 1);
    if (msg.type === 'error') waiter.reject(Object.assign(new Error(msg.message), { code: msg.code }));
    else waiter.resolve(msg);
    if (msg.type !== 'joined') return;
  }
  switch (msg.type) {
    case 'joined': return onJoined(msg);
    case 'offer': state.offers = state.offers.then(() => onOffer(msg)).catch((err) => console.error('offer failed', err)); return;
    case 'peer-joined': return addPeer(msg.peer);
    case 'peer-left': return removePeer(msg.peer_id);
    case 'track-added': return trackAdded(msg);
    case 'track-removed': return trackRemoved(msg);
    case 'track-updated': return trackUpdated(msg);
    case 'speaking': return onSpeaking(msg.peer_ids);
    case 'published': return void state.trackIds.set(msg.cid, msg.track_id);
    case 'refused': return console.warn('server refused tracks', msg.cids, msg.message);
    case 'removed':
      // a server going down for a restart: the socket closes next, and the page comes back when the server does
      if (msg.reconnect) return;
      state.leaving = true;
      return leftRoom(msg.message ? `You were removed from the meeting (${msg.message}).` : 'You were removed from the meeting.');
    case 'error': return console.warn('server error', msg.code, msg.message);
  }
}

function onClose(e) {
  for (const w of waiters.splice(0)) w.reject(Object.assign(new Error(e.reason || 'The connection closed.'), { code: e.code >= 4000 ? e.code - 4000 : 0 }));
  if (state.leaving || !state.joined) return;
  reconnect();
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * The connection dropped while in the room: join again with the same token, naming the peer this page was (a
 * server that still has it lets the new peer take its place), until it works or is refused for good.
 */
async function reconnect() {
  if (state.reconnecting) return;
  state.reconnecting = true;
  const previousPeerId = state.peerId;
  dropConnection();
  setStatus('Reconnecting…');
  document.body.dataset.reconnecting = 'true';
  for (let attempt = 0; !state.leaving; attempt++) {
    await sleep(Math.min(RECONNECT_MAX_MS, RECONNECT_FIRST_MS * 2 ** attempt));
    if (state.leaving) break;
    try {
      state.ws = await connect();
      if (state.leaving) throw new Error('left meanwhile');
      const joined = waitFor('joined');
      send({ type: 'join', token: state.token, room_id: opts.roomId, role: opts.role, name: state.name, previous_peer_id: previousPeerId ?? undefined });
      await Promise.race([joined, sleep(REJOIN_TIMEOUT_MS).then(() => Promise.reject(Object.assign(new Error('no answer'), { code: 0 })))]);
      break;
    } catch (err) {
      const ws = state.ws;
      state.ws = null;
      ws?.close();
      waiters.length = 0;
      // a room-code page's token ran out: a fresh one, and try again
      if (err.code === 401 && opts.code) {
        state.token = await getToken().catch(() => state.token);
        continue;
      }
      if (FINAL_REFUSALS.includes(err.code)) {
        state.reconnecting = false;
        delete document.body.dataset.reconnecting;
        state.leaving = true;
        return leftRoom(refusal(err));
      }
    }
  }
  state.reconnecting = false;
  delete document.body.dataset.reconnecting;
}

/** What belonged to the lost connection goes: its media connection, what its offers said, its track ids. */
function dropConnection() {
  state.joined = false;
  delete document.body.dataset.joined;
  delete document.body.dataset.mediaReady;
  state.ws = null;
  if (state.iceRestartTimer) clearTimeout(state.iceRestartTimer);
  state.iceRestartTimer = null;
  state.pc?.close();
  state.pc = null;
  state.mids = {};
  state.trackIds.clear();
  sentSizes.clear();
  attachedTracks.clear();
  state.offers = Promise.resolve();
  for (const w of waiters.splice(0)) w.reject(Object.assign(new Error('The connection closed.'), { code: 0 }));
}

// ---------- local media

async function getMedia(kinds) {
  const wantAudio = kinds.includes('audio');
  const wantVideo = kinds.includes('camera');
  if (!wantAudio && !wantVideo) return;
  const v = state.role?.video;
  const constraints = {
    audio: wantAudio ? { echoCancellation: true, noiseSuppression: true } : false,
    video: wantVideo ? { width: { ideal: v?.width ?? 1280 }, height: { ideal: v?.height ?? 720 }, frameRate: { ideal: v?.frameRate ?? 30 } } : false,
  };
  try {
    const stream = await navigator.mediaDevices.getUserMedia(constraints);
    for (const t of stream.getTracks()) state.local.set(t.id, t);
  } catch (err) {
    $('device-error').textContent = `Camera or microphone unavailable: ${err.message || err.name}. You can still join.`;
    $('device-error').hidden = false;
  }
}

const localTrack = (kind) => [...state.local.values()].find((t) => t.kind === kind && t.id !== state.screenCid);

function startMicMeter() {
  const mic = localTrack('audio');
  if (!mic || !window.AudioContext) return;
  const ac = new AudioContext();
  const analyser = ac.createAnalyser();
  analyser.fftSize = 512;
  ac.createMediaStreamSource(new MediaStream([mic])).connect(analyser);
  const buf = new Float32Array(analyser.fftSize);
  const tick = () => {
    if ($('preview').hidden) return void ac.close();
    analyser.getFloatTimeDomainData(buf);
    let peak = 0;
    for (const x of buf) peak = Math.max(peak, Math.abs(x));
    $('mic-level').value = state.micOn ? peak : 0;
    requestAnimationFrame(tick);
  };
  ac.resume().catch(() => {});
  tick();
}

function setMic(on) {
  state.micOn = on;
  const t = localTrack('audio');
  if (t) {
    t.enabled = on;
    state.muted.set(t.id, !on);
    const id = state.trackIds.get(t.id);
    if (id) send({ type: 'mute', track_id: id, muted: !on });
  }
  for (const b of [$('preview-mic'), $('toggle-mic')]) b.setAttribute('aria-pressed', String(on));
  $('preview-mic').textContent = on ? 'Microphone on' : 'Microphone off';
  $('toggle-mic').textContent = on ? 'Mute' : 'Unmute';
  const self = state.tiles.get(state.peerId);
  if (self) self.micOff.hidden = on;
}

function setCamera(on) {
  state.cameraOn = on;
  const t = localTrack('video');
  if (t) {
    t.enabled = on;
    state.muted.set(t.id, !on);
    const id = state.trackIds.get(t.id);
    if (id) send({ type: 'mute', track_id: id, muted: !on });
  }
  for (const b of [$('preview-cam'), $('toggle-cam')]) b.setAttribute('aria-pressed', String(on));
  $('preview-cam').textContent = on ? 'Camera on' : 'Camera off';
  $('toggle-cam').textContent = on ? 'Stop video' : 'Start video';
  $('preview-camera-off').hidden = on || !t;
  const self = state.tiles.get(state.peerId);
  if (self) self.el.classList.toggle('video-off', !on || !t);
}

async function toggleScreen() {
  if (state.screenCid) return stopScreen();
  let stream;
  try {
    const s = state.role?.screen;
    stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: s?.frameRate ?? 15 } }, audio: false });
  } catch (err) {
    setStatus(`Screen share not started: ${err.message || err.name}`);
    return;
  }
  const track = stream.getVideoTracks()[0];
  state.screenCid = track.id;
  state.local.set(track.id, track);
  track.addEventListener('ended', () => stopScreen());
  addScreenTile(`local-${track.id}`, state.peerId, track, true);
  send({ type: 'publish', tracks: [{ cid: track.id, kind: 'screen' }] });
  $('toggle-screen').setAttribute('aria-pressed', 'true');
  $('toggle-screen').textContent = 'Stop sharing';
}

function stopScreen() {
  const cid = state.screenCid;
  if (!cid) return;
  state.screenCid = null;
  const track = state.local.get(cid);
  track?.stop();
  state.local.delete(cid);
  const id = state.trackIds.get(cid);
  if (id) send({ type: 'unpublish', track_id: id });
  removeScreenTile(`local-${cid}`);
  $('toggle-screen').setAttribute('aria-pressed', 'false');
  $('toggle-screen').textContent = 'Share screen';
}

// ---------- tiles

function makeTile(id, name, { self = false, screen = false, local = self } = {}) {
  const el = document.createElement('figure');
  el.className = `tile${self ? ' self' : ''}${screen ? ' screen' : ' video-off'}`;
  el.dataset.peerId = id;
  const video = document.createElement('video');
  video.autoplay = true;
  video.muted = true;
  video.playsInline = true;
  video.setAttribute('aria-label', screen ? `${name}'s screen` : `${name}'s video`);
  const avatar = document.createElement('div');
  avatar.className = 'avatar';
  avatar.setAttribute('aria-hidden', 'true');
  avatar.textContent = initials(name);
  const cap = document.createElement('figcaption');
  const label = document.createElement('span');
  label.className = 'name';
  label.textContent = screen ? `${name} (screen)` : self ? `${name} (you)` : name;
  const micOff = document.createElement('span');
  micOff.className = 'mic-off';
  micOff.textContent = 'muted';
  micOff.hidden = true;
  const speakingLabel = document.createElement('span');
  speakingLabel.className = 'sr-only';
  cap.append(label, micOff, speakingLabel);
  el.append(video, avatar, cap);
  video.addEventListener('loadeddata', () => {
    if (!state.firstFrameAt && !local && video.videoWidth > 0) {
      // ms since navigation start: page load → first remote frame
      state.firstFrameAt = performance.now();
      document.body.dataset.firstFrameMs = String(Math.round(state.firstFrameAt));
    }
  });
  // a remote peer's camera and microphone play together in `video` (see playRemote)
  return { el, video, micOff, speakingLabel, name, remote: { camera: null, audio: null } };
}

function addPeer(p, self = false) {
  if (state.tiles.has(p.peer_id)) return state.tiles.get(p.peer_id);
  const tile = makeTile(p.peer_id, p.name, { self });
  state.tiles.set(p.peer_id, tile);
  $('grid').append(tile.el);
  if (!self) tileSizes.observe(tile.video);
  for (const t of p.tracks ?? []) state.tracks.set(t.track_id, { peer_id: p.peer_id, kind: t.kind, muted: t.muted });
  applyMuteState(p.peer_id);
  layout();
  return tile;
}

function removePeer(peerId) {
  const tile = state.tiles.get(peerId);
  if (!tile) return;
  tileSizes.unobserve(tile.video);
  tile.video.srcObject = null;
  tile.el.remove();
  state.tiles.delete(peerId);
  for (const [id, t] of state.tracks) if (t.peer_id === peerId) state.tracks.delete(id);
  for (const [id, s] of state.screens) if (s.peerId === peerId) removeScreenTile(id);
  if (state.featured === peerId) state.featured = null;
  layout();
}

function addScreenTile(key, peerId, track, self) {
  const owner = state.tiles.get(peerId)?.name ?? (self ? 'You' : 'Someone');
  const tile = makeTile(key, owner, { screen: true, local: self });
  tile.peerId = peerId;
  tile.video.srcObject = new MediaStream([track]);
  state.screens.set(key, tile);
  $('stage').append(tile.el);
  layout();
}

function removeScreenTile(key) {
  const tile = state.screens.get(key);
  if (!tile) return;
  tile.el.remove();
  state.screens.delete(key);
  layout();
}

function applyMuteState(peerId) {
  const tile = state.tiles.get(peerId);
  if (!tile || peerId === state.peerId) return;
  const mine = [...state.tracks.values()].filter((t) => t.peer_id === peerId);
  const cam = mine.find((t) => t.kind === 'camera');
  const mic = mine.find((t) => t.kind === 'audio');
  tile.el.classList.toggle('video-off', !cam || cam.muted || !tile.remote.camera);
  tile.micOff.hidden = !(mic?.muted);
}

function trackAdded(m) {
  state.tracks.set(m.track_id, { peer_id: m.peer_id, kind: m.kind, muted: m.muted });
  applyMuteState(m.peer_id);
}

function trackRemoved(m) {
  state.tracks.delete(m.track_id);
  const tile = state.tiles.get(m.peer_id);
  if (m.kind === 'screen') removeScreenTile(m.track_id);
  else if (tile && (m.kind === 'camera' || m.kind === 'audio')) {
    tile.remote[m.kind] = null;
    playRemote(tile);
  }
  applyMuteState(m.peer_id);
}

function trackUpdated(m) {
  const t = state.tracks.get(m.track_id);
  if (t) t.muted = m.muted;
  applyMuteState(m.peer_id);
}

function onSpeaking(ids) {
  state.speaking = ids;
  for (const [id, tile] of state.tiles) {
    const on = ids.includes(id);
    tile.el.classList.toggle('speaking', on);
    tile.speakingLabel.textContent = on ? 'speaking' : '';
  }
  // the featured speaker changes at most every 1.5 s, so two voices do not make the layout flicker
  const now = performance.now();
  if (ids.length > 0 && ids[0] !== state.peerId && ids[0] !== state.featured && !(state.featured && ids.includes(state.featured)) && now - state.featuredAt > 1500) {
    state.featured = ids[0];
    state.featuredAt = now;
  }
  layout();
}

function layout() {
  const grid = $('grid');
  const n = state.tiles.size;
  $('room').classList.toggle('has-screen', state.screens.size > 0);
  const cols = n <= 1 ? 1 : n <= 4 ? 2 : n <= 9 ? 3 : 4;
  grid.style.setProperty('--cols', String(cols));
  grid.classList.toggle('activespeaker', opts.activeSpeaker);
  grid.classList.toggle('single', n <= 1);
  if (opts.activeSpeaker) {
    // the last one who spoke stays large; before anyone speaks, the first other participant
    if (!state.featured || !state.tiles.has(state.featured)) state.featured = [...state.tiles.keys()].find((id) => id !== state.peerId) ?? state.peerId;
    for (const [id, tile] of state.tiles) tile.el.classList.toggle('featured', id === state.featured);
  }
}

// ---------- WebRTC

function makePc() {
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', iceServers: state.iceServers ?? [] });
  pc.onicecandidate = (e) => {
    if (e.candidate) send({ type: 'candidate', candidate: e.candidate.toJSON() });
  };
  pc.ontrack = (e) => attachRemote(e.transceiver.mid, e.track);
  pc.onconnectionstatechange = () => {
    document.body.dataset.connection = pc.connectionState;
    if (pc !== state.pc) return;
    if (pc.connectionState === 'connected') mediaBack();
    else if (pc.connectionState === 'disconnected' || pc.connectionState === 'failed') mediaLost(pc.connectionState === 'failed');
  };
  return pc;
}

/**
 * The media path broke while the signaling socket stayed (a network change, a NAT that forgot us): the page
 * says so and asks the server for an ICE restart — at once when every pair failed, after a short wait when the
 * connection is only "disconnected" (it often comes back by itself) — and again every few seconds until the
 * media flows; nobody leaves the room meanwhile.
 */
function mediaLost(failed) {
  setStatus('Reconnecting…');
  document.body.dataset.reconnecting = 'true';
  if (state.iceRestartTimer) {
    if (!failed) return;
    clearTimeout(state.iceRestartTimer);
  }
  const ask = () => {
    state.iceRestartTimer = setTimeout(ask, ICE_RESTART_EVERY_MS);
    if (state.ws?.readyState !== WebSocket.OPEN) return;
    state.iceRestarts = (state.iceRestarts ?? 0) + 1;
    document.body.dataset.iceRestarts = String(state.iceRestarts);
    send({ type: 'ice-restart' });
  };
  state.iceRestartTimer = setTimeout(ask, failed ? 0 : ICE_RESTART_AFTER_MS);
}

function mediaBack() {
  if (state.iceRestartTimer) clearTimeout(state.iceRestartTimer);
  state.iceRestartTimer = null;
  if (state.reconnecting || document.body.dataset.reconnecting !== 'true') return;
  delete document.body.dataset.reconnecting;
  setStatus('Connected');
}

// ---------- simulcast: the server sends each camera in the layer its tile needs

// how wide each received camera is shown (device pixels), as last told to the server, by track id
const sentSizes = new Map();
let sizeReport = null;
const tileSizes = new ResizeObserver(() => reportTileSizes());

/** Tells the server how wide each received camera is shown, when that changed by more than a tenth. */
function reportTileSizes() {
  sizeReport ??= setTimeout(() => {
    sizeReport = null;
    for (const info of Object.values(state.mids)) {
      if (info.dir !== 'subscribe' || info.kind !== 'camera' || !info.active) continue;
      const video = state.tiles.get(info.peer_id)?.video;
      if (!video) continue;
      // a tile not shown (camera off, hidden) needs the smallest layer
      const width = Math.round(video.clientWidth * (window.devicePixelRatio || 1));
      const last = sentSizes.get(info.track_id);
      if (last !== undefined && Math.abs(width - last) <= last / 10) continue;
      sentSizes.set(info.track_id, width);
      send({ type: 'video-size', track_id: info.track_id, width });
    }
  }, 200);
}

/** The layers of a camera sent in simulcast, each scaled down and capped as the server says (after the answer). */
async function scaleLayers(t, layers) {
  const params = t.sender.getParameters();
  if (!params.encodings?.length) return;
  // Chrome sends only as many layers as the camera's size allows (3 from 960 wide, 2 from 480), the first ones
  // offered: on a smaller camera those take the largest sizes, so it still sends its full size, the last is off
  const width = t.sender.track?.getSettings().width ?? 1280;
  const sent = Math.min(layers.length, width >= 960 ? 3 : width >= 480 ? 2 : 1);
  let changed = false;
  params.encodings.forEach((e) => {
    const i = layers.findIndex((l) => l.rid === e.rid);
    if (i < 0) return;
    const active = i < sent;
    // (layers come smallest first)
    const size = layers[layers.length - sent + Math.min(i, sent - 1)];
    if (e.scaleResolutionDownBy !== size.scale_down_by || e.maxBitrate !== size.max_kbps * 1000 || e.active !== active) {
      e.scaleResolutionDownBy = size.scale_down_by;
      e.maxBitrate = size.max_kbps * 1000;
      e.active = active;
      changed = true;
    }
  });
  if (changed) await t.sender.setParameters(params);
}

function attachRemote(mid, track) {
  const info = state.mids[mid];
  // an ended track's m-line stays sendonly in the server's offers, so Chrome fires `track` for it again on
  // each offer after the page answered it inactive: that is no new track to show
  if (!info || info.dir !== 'subscribe' || !info.active) return;
  attachedTracks.set(mid, info.track_id);
  const tile = state.tiles.get(info.peer_id);
  if (info.kind === 'screen') {
    removeScreenTile(info.track_id);
    const owner = tile?.name;
    addScreenTile(info.track_id, info.peer_id, track, false);
    if (owner) state.screens.get(info.track_id).el.querySelector('.name').textContent = `${owner} (screen)`;
    return;
  }
  if (!tile) return;
  tile.remote[info.kind === 'camera' ? 'camera' : 'audio'] = track;
  playRemote(tile);
  applyMuteState(info.peer_id);
  // (a track on a reused m-line is new to the server: its size is told again)
  sentSizes.delete(info.track_id);
  reportTileSizes();
}

/** which track each receiving m-line shows: the server reuses m-lines for new tracks */
const attachedTracks = new Map();

// A peer's camera and microphone play in one element, from one MediaStream: the two stay lip-synced (the
// server sends them under one stream id, so the browser's WebRTC sync pairs them; one element then keeps
// them on one playback clock).
function playRemote(tile) {
  const tracks = [tile.remote.camera, tile.remote.audio].filter(Boolean);
  const current = tile.video.srcObject?.getTracks() ?? [];
  if (tracks.length === current.length && tracks.every((t) => current.includes(t))) return;
  tile.video.srcObject = tracks.length ? new MediaStream(tracks) : null;
  if (!tracks.length) return;
  tile.video.muted = !state.soundOn;
  tile.video.play().catch((err) => {
    // (a play() cut short by the next srcObject is no refusal)
    if (err.name !== 'NotAllowedError') return;
    // autoplay with sound needs a click on this page: play muted until then
    state.soundOn = false;
    tile.video.muted = true;
    tile.video.play().catch(() => {});
    $('enable-audio').hidden = false;
  });
}

async function onOffer({ sdp, mids }) {
  state.mids = mids;
  state.pc ??= makePc();
  const pc = state.pc;
  await pc.setRemoteDescription({ type: 'offer', sdp });
  for (const t of pc.getTransceivers()) {
    const info = mids[t.mid];
    if (!info) continue;
    if (info.dir === 'publish') {
      state.trackIds.set(info.cid, info.track_id);
      const track = info.active ? state.local.get(info.cid) : null;
      if (track) {
        if (t.sender.track !== track) await t.sender.replaceTrack(track);
        t.direction = 'sendonly';
        const muted = state.muted.get(info.cid);
        if (muted !== undefined) send({ type: 'mute', track_id: info.track_id, muted });
      } else {
        if (t.sender.track) await t.sender.replaceTrack(null);
        t.direction = 'inactive';
      }
    } else {
      // an m-line that kept receiving while it changed tracks gets no track event: attach it here
      if (info.active && t.currentDirection === 'recvonly' && attachedTracks.get(t.mid) !== info.track_id) attachRemote(t.mid, t.receiver.track);
      t.direction = info.active ? 'recvonly' : 'inactive';
    }
  }
  const answer = await pc.createAnswer();
  await pc.setLocalDescription(answer);
  // an offer of a connection lost meanwhile is not answered on the next one
  if (pc !== state.pc) return;
  send({ type: 'answer', sdp: pc.localDescription.sdp });
  for (const t of pc.getTransceivers()) {
    const layers = mids[t.mid]?.dir === 'publish' ? mids[t.mid].layers : undefined;
    if (layers && t.sender.track) await scaleLayers(t, layers).catch((err) => console.warn('simulcast layers', err));
  }
}

// ---------- joining and leaving

function onJoined(msg) {
  // joined again: the room as it is now replaces what the page showed (the tiles of the lost connection)
  for (const id of [...state.tiles.keys()]) removePeer(id);
  state.joined = true;
  state.peerId = msg.peer_id;
  state.room = msg.room;
  state.role = msg.role;
  // TURN relays for networks that block UDP or sit behind strict NATs, with this peer's own credentials
  state.iceServers = Array.isArray(msg.ice_servers) ? msg.ice_servers : [];
  document.body.dataset.peerId = msg.peer_id;
  $('room-name').textContent = msg.room.name;
  document.title = `${msg.room.name} · roomcast`;
  show('room');
  const publishes = msg.role.publish;
  const viewer = publishes.length === 0 && msg.role.subscribe_to_roles.length === 0;
  $('live-notice').hidden = !viewer;
  $('grid').hidden = viewer;
  // a viewer watches the room's live stream (HLS) instead of WebRTC media
  if (viewer && !state.hls) state.hls = startHlsViewer({ roomId: msg.room.id, token: state.token, container: $('room'), notice: $('live-notice') });
  if (!opts.bare) {
    $('header').hidden = false;
    $('controls').hidden = false;
    $('toggle-mic').hidden = !publishes.includes('audio') || !localTrack('audio');
    $('toggle-cam').hidden = !publishes.includes('camera') || !localTrack('video');
    $('toggle-screen').hidden = !publishes.includes('screen') || !navigator.mediaDevices?.getDisplayMedia;
  }
  if (publishes.length > 0 && state.local.size > 0) {
    const self = addPeer({ peer_id: msg.peer_id, name: msg.name, tracks: [] }, true);
    const cam = localTrack('video');
    if (cam) self.video.srcObject = new MediaStream([cam]);
    self.el.classList.toggle('video-off', !cam || !state.cameraOn);
    self.micOff.hidden = state.micOn || !localTrack('audio');
  }
  for (const p of msg.peers) addPeer(p);
  onSpeaking(msg.speaking ?? []);
  const tracks = [];
  const mic = localTrack('audio');
  const cam = localTrack('video');
  if (mic && publishes.includes('audio')) tracks.push({ cid: mic.id, kind: 'audio', muted: !state.micOn });
  if (cam && publishes.includes('camera')) tracks.push({ cid: cam.id, kind: 'camera', muted: !state.cameraOn });
  if (tracks.length > 0) send({ type: 'publish', tracks });
  // a screen still shared from before a reconnect is published again
  const screen = state.screenCid && state.local.get(state.screenCid);
  if (screen) {
    addScreenTile(`local-${screen.id}`, state.peerId, screen, true);
    send({ type: 'publish', tracks: [{ cid: screen.id, kind: 'screen' }] });
  }
  setStatus(viewer ? '' : 'Connected');
  requestAnimationFrame(() => {
    document.body.dataset.joined = 'true';
  });
  signalMediaReady();
}

// The recorder starts filming when the picture is complete: every remote camera and screen the room had at
// join shows a frame (data-media-ready), or after 5 s whatever has arrived — a recording that starts with
// empty tiles is worse than one that starts a second later.
function signalMediaReady() {
  const giveUpAt = Date.now() + 5000;
  const check = () => {
    if (!state.joined) return;
    const expected = [...state.tracks.values()].filter((t) => t.peer_id !== state.peerId && (t.kind === 'screen' || (t.kind === 'camera' && !t.muted))).length;
    const showing = [...document.querySelectorAll('.tile:not(.self) video')].filter((v) => v.readyState >= 2 && v.videoWidth > 0).length;
    if (showing >= expected || Date.now() > giveUpAt) document.body.dataset.mediaReady = 'true';
    else setTimeout(check, 50);
  };
  check();
}

async function join(name) {
  state.name = name;
  setStatus('Joining…');
  // a socket left on the preview screen for long is closed by the server: a fresh one joins
  if (state.ws?.readyState !== WebSocket.OPEN) {
    try {
      state.ws = await connect();
    } catch (err) {
      return fail(err.message, true);
    }
  }
  const joined = waitFor('joined');
  send({ type: 'join', token: state.token, room_id: opts.roomId, role: opts.role, name });
  try {
    await joined;
  } catch (err) {
    fail(refusal(err));
  }
}

function refusal(err) {
  if (err.code === 401) return `Your link is not valid any more (${err.message}).`;
  if (err.code === 403 || err.code === 404) return `You cannot join this meeting: ${err.message}.`;
  return err.message || 'Could not join the meeting.';
}

function leave() {
  if (state.leaving) return;
  state.leaving = true;
  send({ type: 'leave' });
  leftRoom('You left the meeting.');
}

function leftRoom(text) {
  state.joined = false;
  delete document.body.dataset.joined;
  delete document.body.dataset.mediaReady;
  state.pc?.close();
  state.pc = null;
  for (const t of state.local.values()) t.stop();
  state.local.clear();
  state.screenCid = null;
  state.ws?.close();
  state.hls?.stop();
  state.hls = null;
  for (const id of [...state.tiles.keys()]) removePeer(id);
  $('left-text').textContent = text;
  $('controls').hidden = true;
  show('left');
}

// ---------- start

async function start() {
  document.body.classList.toggle('bare', opts.bare);
  $('header').hidden = opts.bare;
  try {
    state.token = await getToken();
    state.ws = await connect();
    const preview = waitFor('preview');
    send({ type: 'preview', token: state.token, room_id: opts.roomId, role: opts.role });
    const info = await preview;
    state.role = info.role;
    state.room = info.room;
    $('room-name').textContent = info.room.name;
  } catch (err) {
    return fail(err.code ? refusal(err) : err.message, !err.code);
  }
  const publishes = state.role.publish;
  const name = opts.name || localStorage.getItem('roomcast.name') || '';
  if (opts.skip) {
    await getMedia(publishes);
    return join(name);
  }
  show('preview');
  $('name').value = name;
  if (opts.name) $('name').readOnly = true;
  const hasMedia = publishes.includes('audio') || publishes.includes('camera');
  $('preview-media').hidden = !hasMedia;
  $('preview-toggles').hidden = !hasMedia;
  await getMedia(publishes);
  const cam = localTrack('video');
  if (cam) $('preview-video').srcObject = new MediaStream([cam]);
  $('preview-camera-off').hidden = !!cam;
  if (!cam) $('preview-camera-off').textContent = 'No camera';
  $('preview-cam').disabled = !cam;
  $('preview-mic').disabled = !localTrack('audio');
  startMicMeter();
  $('name').focus();
}

$('preview-mic').addEventListener('click', () => setMic(!state.micOn));
$('preview-cam').addEventListener('click', () => setCamera(!state.cameraOn));
$('toggle-mic').addEventListener('click', () => setMic(!state.micOn));
$('toggle-cam').addEventListener('click', () => setCamera(!state.cameraOn));
$('toggle-screen').addEventListener('click', () => toggleScreen());
$('leave').addEventListener('click', () => leave());
$('rejoin').addEventListener('click', () => location.reload());
$('notice-retry').addEventListener('click', () => location.reload());
$('enable-audio').addEventListener('click', () => {
  state.soundOn = true;
  for (const [id, tile] of state.tiles) {
    if (id === state.peerId || !tile.video.srcObject) continue;
    tile.video.muted = false;
    tile.video.play().catch(() => {});
  }
  $('enable-audio').hidden = true;
});
$('join-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const name = $('name').value.trim();
  if (!name) return;
  try {
    localStorage.setItem('roomcast.name', name);
  } catch {}
  $('join').disabled = true;
  join(name);
});
// closing the tab: say goodbye so the leave reason is "client request"
window.addEventListener('pagehide', () => {
  if (state.joined) send({ type: 'leave' });
});

// for tests and the recorder: a read-only window onto the page
window.roomcast = {
  get pc() {
    return state.pc;
  },
  get peerId() {
    return state.peerId;
  },
  get trackIds() {
    return Object.fromEntries(state.trackIds);
  },
  tiles: () => [...state.tiles.entries()].map(([id, t]) => ({ id, name: t.name, video: !!t.video.srcObject, speaking: t.el.classList.contains('speaking') })),
  screens: () => [...state.screens.keys()],
  toggleScreen,
  leave,
};

start();
