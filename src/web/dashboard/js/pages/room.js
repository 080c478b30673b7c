// One room: its room codes (meeting links, join) and the live view — peers in it now, the recording and the
// live stream with their status as it changes (polled), elapsed time and an HLS player.
import { ApiError, get, isMissingRoute, post, qs } from '../api.js';
import {
  badge,
  banner,
  busy,
  card,
  checkbox,
  clear,
  copyButton,
  dataTable,
  emptyState,
  errorBanner,
  field,
  fill,
  fmtDuration,
  h,
  pageHeader,
  secondsBetween,
  select,
  shortId,
  timeEl,
  toast,
} from '../dom.js';
import { forget } from '../lookup.js';
import { RESOLUTIONS, loadTemplate } from './templates.js';
import { hlsPlayer } from '../player.js';

const POLL_MS = 1500;
const ACTIVE = new Set(['starting', 'running', 'stopping']);

export const meetingLink = (code) => `${location.origin}/meeting/${encodeURIComponent(code)}`;

export async function view(root, { params, signal }) {
  const [id] = params;
  const errSlot = h('div');
  root.append(errSlot);
  let room;
  let template = null;
  try {
    room = await get(`/v2/rooms/${id}`, { signal });
    template = await loadTemplate(room.template_id, signal).catch(() => null);
  } catch (err) {
    if (err.name !== 'AbortError') errSlot.append(errorBanner(err));
    return;
  }
  document.title = `${room.name} · Rooms · roomcast dashboard`;

  const stopped = { value: false };
  const header = h('div');
  const drawHeader = () => {
    const toggle = h(
      'button',
      { type: 'button', class: room.enabled ? 'ghost' : 'primary' },
      room.enabled ? 'Disable room' : 'Enable room',
    );
    toggle.addEventListener('click', () =>
      busy(toggle, errSlot, async () => {
        Object.assign(room, await post(`/v2/rooms/${room.id}`, { enabled: !room.enabled }));
        forget('rooms');
        toast(room.enabled ? 'Room enabled' : 'Room disabled: no new joins');
        drawHeader();
        await codes.refresh();
      }),
    );
    fill(header, 
      h('p', { class: 'crumbs' }, h('a', { href: '#/rooms' }, 'Rooms'), ' / '),
      pageHeader(room.name, badge(room.enabled ? 'enabled' : 'disabled'), h('a', { class: 'button ghost', href: `#/sessions?room_id=${room.id}` }, 'Sessions'), toggle),
      h(
        'p',
        { class: 'muted small meta' },
        'id ',
        h('code', null, room.id),
        ' ',
        copyButton(room.id, 'Copy id', 'Room id copied'),
        ' · template ',
        h('a', { href: `#/templates/${room.template_id}` }, template?.name ?? room.template_id),
        room.description ? ` · ${room.description}` : '',
      ),
      room.enabled ? null : banner('warn', 'This room is disabled: no one can join, and recordings and live streams cannot start. A session in progress continues.'),
    );
  };
  drawHeader();

  const codes = roomCodes(room, () => room);
  const live = liveView(room, template, stopped);
  root.append(header, live.peers, h('div', { class: 'columns' }, live.rec, live.stream), codes.el);
  await Promise.all([codes.refresh(), live.poll()]);

  // status changes show within a poll interval; a hidden tab does not poll
  const timer = setInterval(() => {
    if (!document.hidden) live.poll();
  }, POLL_MS);
  const ticker = setInterval(() => live.tick(), 1000);
  return () => {
    stopped.value = true;
    clearInterval(timer);
    clearInterval(ticker);
    live.destroy();
  };
}

// ---- room codes -------------------------------------------------------------------------------------------

function roomCodes(room, current) {
  const errSlot = h('div');
  const showDisabled = checkbox('Show disabled codes', false);
  const body = h('div');
  const createBtn = h('button', { type: 'button', class: 'ghost small' }, 'Create codes for all roles');
  let all = [];
  createBtn.addEventListener('click', () =>
    busy(createBtn, errSlot, async () => {
      await post(`/v2/room-codes/room/${room.id}`);
      await refresh();
      toast('Room codes ready');
    }),
  );
  showDisabled.input.addEventListener('change', () => draw());

  function draw() {
    const rows = all.filter((c) => showDisabled.input.checked || c.enabled);
    const table = dataTable({
      caption: 'Room codes',
      rowKey: (c) => c.code,
      rows,
      empty: emptyState(
        'No room codes',
        current().enabled ? 'Create codes so people can join with a link.' : 'Enable the room to create codes.',
        current().enabled ? h('button', { type: 'button', class: 'primary', onclick: (e) => { e.currentTarget.disabled = true; createBtn.click(); } }, 'Create room codes') : null,
      ),
      columns: [
        { label: 'Role', value: (c) => c.role, class: 'nowrap', render: (c) => h('strong', null, c.role) },
        {
          label: 'Meeting link',
          value: (c) => c.code,
          render: (c) =>
            h(
              'div',
              { class: 'link-cell' },
              h('code', { class: 'code', dataset: { code: c.code } }, c.code),
              h('a', { class: 'meeting-link', href: meetingLink(c.code), target: '_blank', rel: 'noopener' }, meetingLink(c.code)),
            ),
        },
        {
          label: 'Actions',
          sortable: false,
          render: (c) =>
            h(
              'div',
              { class: 'row-actions' },
              c.enabled && current().enabled
                ? h('a', { class: 'button primary small', href: meetingLink(c.code), target: '_blank', rel: 'noopener', 'aria-label': `Join as ${c.role}` }, 'Join')
                : null,
              copyButton(meetingLink(c.code), 'Copy link', `Link for ${c.role} copied`),
              h(
                'button',
                {
                  type: 'button',
                  class: 'ghost small',
                  'aria-label': `${c.enabled ? 'Disable' : 'Enable'} code ${c.code}`,
                  onclick: (e) =>
                    busy(e.currentTarget, errSlot, async () => {
                      await post('/v2/room-codes/code', { code: c.code, enabled: !c.enabled });
                      await refresh();
                    }),
                },
                c.enabled ? 'Disable' : 'Enable',
              ),
              c.enabled ? null : badge('disabled'),
            ),
        },
      ],
    });
    fill(body, table.el);
  }

  async function refresh() {
    try {
      const res = await get(`/v2/room-codes/room/${room.id}${qs({ limit: 100 })}`);
      all = (res.data ?? []).sort((a, b) => a.role.localeCompare(b.role) || Number(b.enabled) - Number(a.enabled));
      clear(errSlot);
      draw();
    } catch (err) {
      fill(errSlot, errorBanner(err));
    }
  }

  const el = card('Room codes', h('p', { class: 'muted small' }, 'Anyone with a link joins with that role.'), errSlot, h('div', { class: 'table-toolbar' }, showDisabled.el, createBtn), body);
  el.classList.add('codes');
  return { el, refresh };
}

// ---- live view ------------------------------------------------------------------------------------------------

function elapsedOf(job) {
  if (!job) return null;
  // starting: how long it has been waiting; running/stopping: how long it has been recording
  if (job.status === 'starting') return secondsBetween(job.created_at);
  if (ACTIVE.has(job.status)) return job.started_at ? secondsBetween(job.started_at) : null;
  return job.started_at && job.stopped_at ? secondsBetween(job.started_at, job.stopped_at) : null;
}

function jobCard(kind) {
  const status = h('span', { class: 'job-status', 'aria-live': 'polite', dataset: { status: 'none' } }, badge('idle', 'muted'));
  const elapsed = h('span', { class: 'elapsed', 'aria-label': 'Elapsed time' }, '—');
  const info = h('dl', { class: 'kv' });
  const actions = h('div', { class: 'actions' });
  const note = h('div');
  const errSlot = h('div');
  const pollErr = h('div');
  const extra = h('div');
  const el = h(
    'section',
    { class: `card job ${kind}`, 'aria-label': kind === 'recording' ? 'Recording' : 'Live stream' },
    h('div', { class: 'job-head' }, h('h2', null, kind === 'recording' ? 'Recording' : 'Live stream'), status, elapsed),
    errSlot,
    pollErr,
    note,
    info,
    actions,
    extra,
  );
  return {
    el,
    errSlot,
    pollErr,
    note,
    actions,
    extra,
    setJob(job, elapsedSeconds) {
      const s = job ? job.status : 'none';
      if (status.dataset.status !== s || (job && status.dataset.paused !== String(!!job.paused))) {
        status.dataset.status = s;
        status.dataset.paused = String(!!job?.paused);
        fill(status, job ? badge(job.status) : badge('idle', 'muted'), job?.paused ? [' ', badge('paused', 'info')] : null);
      }
      elapsed.textContent = elapsedSeconds === null || elapsedSeconds === undefined ? '—' : fmtDuration(elapsedSeconds);
      // rebuilt only when the job changes: the ticker calls this every second, and focus must stay put
      const sig = JSON.stringify(job ? [job.id, job.status, job.started_at, job.stopped_at, job.session_id, job.stop_reason, job.error_message, job.playback?.url] : null);
      if (info.dataset.sig === sig) return;
      info.dataset.sig = sig;
      const url = job?.playback?.url;
      const rows = job
        ? [
            ['Id', shortId(job.id)],
            ['Started', timeEl(job.started_at ?? null)],
            job.stopped_at ? ['Stopped', timeEl(job.stopped_at)] : null,
            job.session_id ? ['Session', h('a', { href: `#/sessions/${job.session_id}` }, shortId(job.session_id))] : null,
            url ? ['Playback URL', h('span', null, h('code', { class: 'wrap' }, url), ' ', copyButton(url, 'Copy URL', 'Playback URL copied'))] : null,
            job.stop_reason ? ['Stop reason', job.stop_reason] : null,
            job.error_message || job.error_type ? ['Error', `${job.error_type ?? ''} ${job.error_message ?? ''}`.trim()] : null,
          ].filter(Boolean)
        : [];
      fill(info, ...rows.flatMap(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
    },
  };
}

function liveView(room, template, stopped) {
  const peersBody = h('div');
  const peersCount = h('span', { class: 'muted small' });
  const peersErr = h('div');
  const peersCard = card('In the room now', peersCount, peersErr, peersBody);
  const rec = jobCard('recording');
  const ls = jobCard('stream');
  let recording = null;
  let stream = null;
  let streamAvailable = true;
  let peersAvailable = true;
  let player = null;

  // ---- recording controls
  const resolution = select([['', 'Template default'], ...RESOLUTIONS], '', { 'aria-label': 'Recording resolution' });
  const startRec = h('button', { type: 'button', class: 'primary' }, 'Start recording');
  const stopRec = h('button', { type: 'button', class: 'danger' }, 'Stop recording');
  const pauseRec = h('button', { type: 'button', class: 'ghost' }, 'Pause');
  startRec.addEventListener('click', () =>
    busy(startRec, rec.errSlot, async () => {
      const body = {};
      if (resolution.value) {
        const [width, height] = resolution.value.split('x').map(Number);
        body.resolution = { width, height };
      }
      recording = await post(`/v2/recordings/room/${room.id}/start`, body);
      drawRecording();
      await poll();
    }),
  );
  stopRec.addEventListener('click', () =>
    busy(stopRec, rec.errSlot, async () => {
      recording = await post(`/v2/recordings/${recording.id}/stop`);
      drawRecording();
      await poll();
    }),
  );
  pauseRec.addEventListener('click', () =>
    busy(pauseRec, rec.errSlot, async () => {
      recording = await post(`/v2/recordings/room/${room.id}/${recording.paused ? 'resume' : 'pause'}`);
      drawRecording();
    }),
  );
  rec.actions.append(field('Resolution', resolution), startRec, pauseRec, stopRec);
  const bc = template?.recordings?.[0]?.compositeRecording?.browserComposite;
  if (bc?.autoStart) rec.note.append(banner('info', 'Auto-start is on for this template: recording starts when the first peer joins.'));

  function drawRecording() {
    const active = recording && ACTIVE.has(recording.status);
    startRec.hidden = !!active;
    resolution.closest('.field').hidden = !!active;
    startRec.disabled = !room.enabled;
    stopRec.hidden = !active || recording.status === 'stopping';
    pauseRec.hidden = !(recording?.status === 'running');
    pauseRec.textContent = recording?.paused ? 'Resume' : 'Pause';
    rec.setJob(recording, elapsedOf(recording));
  }

  // ---- live stream controls
  const dests = Object.keys(template?.destinations?.hlsDestinations ?? {});
  const dest = select(dests, dests[0] ?? '', { 'aria-label': 'HLS destination' });
  const vod = checkbox('Record VOD', false);
  const perLayer = checkbox('MP4 per layer', false);
  const startLs = h('button', { type: 'button', class: 'primary' }, 'Start live stream');
  const stopLs = h('button', { type: 'button', class: 'danger' }, 'Stop live stream');
  const startOpts = h('div', { class: 'inline-form' }, dests.length > 1 ? field('Destination', dest) : null, vod.el, perLayer.el);
  startLs.addEventListener('click', () =>
    busy(startLs, ls.errSlot, async () => {
      const body = { recording: { hls_vod: vod.input.checked, single_file_per_layer: perLayer.input.checked } };
      if (dests.length > 1) body.destination = dest.value;
      stream = await post(`/v2/live-streams/room/${room.id}/start`, body);
      drawStream();
      await poll();
    }),
  );
  stopLs.addEventListener('click', () =>
    busy(stopLs, ls.errSlot, async () => {
      stream = await post(`/v2/live-streams/${stream.id}/stop`);
      drawStream();
      await poll();
    }),
  );
  ls.actions.append(startOpts, startLs, stopLs);
  if (template?.destinations?.streamingDisabled) {
    ls.note.append(banner('warn', 'Live streaming is off for this template: composite auto-start is on. ', h('a', { href: `#/templates/${room.template_id}/recording` }, 'Recording settings')));
  }

  function drawStream() {
    if (!streamAvailable) {
      ls.actions.hidden = true;
      fill(ls.note, banner('info', 'Live streaming is not available on this server yet (GET /v2/live-streams is not a route).'));
      ls.setJob(null, null);
      return;
    }
    const active = stream && ACTIVE.has(stream.status);
    startLs.hidden = !!active;
    startOpts.hidden = !!active;
    startLs.disabled = !room.enabled || !!template?.destinations?.streamingDisabled || dests.length === 0;
    stopLs.hidden = !active || stream.status === 'stopping';
    ls.setJob(stream, elapsedOf(stream));
    const url = stream?.playback?.url;
    if (stream?.status === 'running' && url) {
      if (!player || player.url !== url) {
        player?.destroy();
        clear(ls.extra);
        player = hlsPlayer(url, { label: `Live stream of ${room.name}`, live: true });
        ls.extra.append(player.el);
      }
    } else if (player) {
      player.destroy();
      player = null;
      clear(ls.extra);
    }
  }

  // ---- peers
  function drawPeers(active) {
    if (!peersAvailable) {
      fill(peersBody, banner('info', 'Live peers are not available on this server yet (GET /v2/active-rooms is not a route).'));
      return;
    }
    const peers = Object.values(active?.peers ?? {});
    peersCount.textContent = active ? `${peers.length} ${peers.length === 1 ? 'peer' : 'peers'} · session ` : '';
    if (active) peersCount.append(h('a', { href: `#/sessions/${active.session_id}` }, shortId(active.session_id)));
    const table = dataTable({
      caption: 'Peers in the room',
      rowKey: (p) => p.id,
      rows: peers,
      empty: emptyState('No one is in the room', 'Open a meeting link from the room codes to join.'),
      columns: [
        { label: 'Name', value: (p) => p.name || '(no name)' },
        { label: 'Role', value: (p) => p.role },
        { label: 'User id', value: (p) => p.user_id, render: (p) => (p.user_id ? h('code', null, p.user_id) : '—') },
        { label: 'Joined', value: (p) => p.joined_at, render: (p) => timeEl(p.joined_at) },
        { label: 'In room', value: (p) => secondsBetween(p.joined_at), render: (p) => fmtDuration(secondsBetween(p.joined_at)) },
      ],
    });
    const sig = peers.map((p) => p.id).join(',') + '|' + (active?.session_id ?? '');
    // redraw only when who is there changes: keeps focus and scroll while polling
    if (peersBody.dataset.sig !== sig || !peersBody.firstChild) {
      peersBody.dataset.sig = sig;
      fill(peersBody, table.el);
    }
  }

  // ---- polling
  let inflight = null;
  async function pollOnce() {
    const tasks = [
      get(`/v2/recordings${qs({ room_id: room.id, limit: 10 })}`).then(
        (res) => {
          const list = res.data ?? [];
          const mine = recording ? list.find((r) => r.id === recording.id) : null;
          recording = list.find((r) => ACTIVE.has(r.status)) ?? mine ?? list[0] ?? null;
          clear(rec.pollErr);
          drawRecording();
        },
        (err) => showPollError(rec.pollErr, err),
      ),
      streamAvailable
        ? get(`/v2/live-streams${qs({ room_id: room.id, limit: 10 })}`).then(
            (res) => {
              const list = res.data ?? [];
              const mine = stream ? list.find((r) => r.id === stream.id) : null;
              stream = list.find((r) => ACTIVE.has(r.status)) ?? mine ?? list[0] ?? null;
              clear(ls.pollErr);
              drawStream();
            },
            (err) => {
              if (isMissingRoute(err)) {
                streamAvailable = false;
                drawStream();
              } else showPollError(ls.pollErr, err);
            },
          )
        : null,
      peersAvailable
        ? get(`/v2/active-rooms/${room.id}`).then(
            (active) => {
              clear(peersErr);
              drawPeers(active);
            },
            (err) => {
              if (isMissingRoute(err)) {
                peersAvailable = false;
                drawPeers(null);
              } else if (err instanceof ApiError && err.status === 404) {
                clear(peersErr);
                drawPeers(null);
              } else showPollError(peersErr, err);
            },
          )
        : null,
    ];
    await Promise.all(tasks);
  }
  function poll() {
    if (stopped.value) return Promise.resolve();
    inflight ??= pollOnce().finally(() => (inflight = null));
    return inflight;
  }
  function showPollError(slot, err) {
    if (err?.status === 401) return;
    fill(slot, errorBanner(err, { title: 'Could not refresh' }));
  }

  drawRecording();
  drawStream();
  return {
    peers: peersCard,
    rec: rec.el,
    stream: ls.el,
    poll,
    tick() {
      rec.setJob(recording, elapsedOf(recording));
      if (streamAvailable) ls.setJob(stream, elapsedOf(stream));
    },
    destroy() {
      player?.destroy();
    },
  };
}
