import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { getTemplate } from '../../src/store/templates.js';
import { RECORDER_ROLE } from '../../src/model/templates.js';
import { objectId, rfc3339 } from '../../src/clock.js';

let s: TestServer;
before(async () => {
  s = await startTestServer({ STORAGE_ALLOW_PRIVATE: 'true' });
});
after(() => s.stop());

const names = (details: string[]) => JSON.stringify(details);
function assertNames(res: { status: number; body: any }, field: string) {
  assert.equal(res.status, 400, JSON.stringify(res.body));
  assert.equal(res.body.code, 400);
  assert.ok(
    res.body.details.some((d: string) => d.includes(field)),
    `expected a detail naming ${field}: ${names(res.body.details)}`,
  );
}

async function newTemplate(name: string, extra: Record<string, unknown> = {}) {
  const r = await s.api('POST', '/v2/templates', { name, ...extra });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

test('the default template exists with host, guest, hls-viewer and the hidden recorder role', async () => {
  const list = await s.api('GET', '/v2/templates');
  assert.equal(list.status, 200);
  const def = list.body.data.find((t: any) => t.name === 'default');
  assert.ok(def, 'default template listed');
  const t = (await s.api('GET', `/v2/templates/${def.id}`)).body;
  assert.deepEqual(Object.keys(t.roles).sort(), ['__internal_recorder', 'guest', 'hls-viewer', 'host'].sort());
  assert.equal(t.roles[RECORDER_ROLE].hidden, true);
  assert.equal(t.roles.host.hidden, undefined);
  assert.deepEqual(t.roles[RECORDER_ROLE].publishParams.allowed, []);
  assert.deepEqual(t.roles['hls-viewer'].publishParams.allowed, []);
  assert.equal(t.recordings.length, 1);
  assert.equal(t.recordings[0].role, RECORDER_ROLE);
  assert.equal(t.recordings[0].compositeRecording.browserComposite.enabled, true);
  assert.equal('autoStart' in t.recordings[0].compositeRecording.browserComposite, false, 'false booleans omitted');
  assert.ok(t.destinations.hlsDestinations.default.layers.length >= 1);
  assert.equal(t.customer_id, t.customerId);
  assert.equal(t._id, t.id);
});

test('create, get, update; same name overwrites; bad input → 400 naming the field', async () => {
  const created = await newTemplate('Webinar Room.v1:a_b-c', {
    roles: {
      speaker: { permissions: { endRoom: true }, priority: 1 },
      viewer: { publishParams: { allowed: [] }, subscribeParams: { subscribeToRoles: ['speaker'] }, priority: 3 },
    },
  });
  assert.match(created.id, /^[0-9a-f]{24}$/);
  assert.equal(created.name, 'Webinar Room.v1:a_b-c');
  assert.deepEqual(Object.keys(created.roles).sort(), [RECORDER_ROLE, 'speaker', 'viewer'].sort());
  // Defaults fill what the client left out.
  assert.deepEqual(created.roles.speaker.publishParams.allowed, ['audio', 'video', 'screen']);
  assert.equal(created.roles.speaker.permissions.endRoom, true);
  assert.equal(created.roles.speaker.permissions.hlsStreaming, true);
  assert.equal(created.roles.viewer.permissions.endRoom, false);
  // The added recorder role watches the roles that publish, not the viewer.
  assert.deepEqual(created.roles[RECORDER_ROLE].subscribeParams.subscribeToRoles, ['speaker']);
  assert.equal(created.recordings[0].role, RECORDER_ROLE);

  const got = await s.api('GET', `/v2/templates/${created.id}`);
  assert.equal(got.status, 200);
  assert.deepEqual(got.body.roles, created.roles);

  const renamed = await s.api('POST', `/v2/templates/${created.id}`, { name: 'webinar-2', settings: { region: 'eu' } });
  assert.equal(renamed.status, 200);
  assert.equal(renamed.body.name, 'webinar-2');
  assert.equal(renamed.body.settings.region, 'eu');
  assert.deepEqual(renamed.body.roles, created.roles, 'roles kept when not sent');
  assert.equal((await s.api('GET', `/v2/templates/${created.id}`)).body.name, 'webinar-2');

  const again = await s.api('POST', '/v2/templates', { name: 'webinar-2', settings: { region: 'us' } });
  assert.equal(again.status, 200);
  assert.equal(again.body.id, created.id, 'same name updates the existing template');
  assert.equal(again.body.settings.region, 'us');
  assert.deepEqual(Object.keys(again.body.roles).sort(), Object.keys(created.roles).sort());

  assert.equal((await s.api('POST', `/v2/templates/${created.id}`, { name: 'default' })).status, 409);
  assertNames(await s.api('POST', '/v2/templates', { name: 'bad/name' }), 'body/name');
  assertNames(await s.api('POST', '/v2/templates', {}), 'body/name');
  assertNames(await s.api('POST', '/v2/templates', { name: 'x', colour: 'red' }), 'colour');
  assertNames(
    await s.api('POST', '/v2/templates', { name: 'x', roles: { a: { subscribeParams: { subscribeToRoles: ['ghost'] } } } }),
    'body/roles/a/subscribeParams/subscribeToRoles/0',
  );
  assertNames(await s.api('POST', '/v2/templates', { name: 'x', roles: { 'bad role!': {} } }), 'bad role!');
  assertNames(
    await s.api('POST', '/v2/templates', { name: 'x', recordings: [{ name: 'r', role: 'nobody' }] }),
    'body/recordings/0/role',
  );
  assert.equal((await s.api('GET', '/v2/templates')).body.data.some((t: any) => t.name === 'x'), false, 'rejected creates store nothing');
});

test('pagination walks every template once, newest first', async () => {
  const made: string[] = [];
  for (let i = 0; i < 23; i++) made.push((await newTemplate(`page ${i}`)).id);
  const seen: string[] = [];
  let start = '';
  for (let pages = 0; pages < 10; pages++) {
    const r = await s.api('GET', `/v2/templates?limit=10${start ? `&start=${start}` : ''}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.limit, 10);
    if (r.body.data.length === 0) break;
    seen.push(...r.body.data.map((x: any) => x.id));
    assert.equal(r.body.last, r.body.data[r.body.data.length - 1].id);
    start = r.body.last;
  }
  for (const id of made) assert.equal(seen.filter((x) => x === id).length, 1);
  assert.deepEqual(seen, [...seen].sort().reverse());
  assertNames(await s.api('GET', '/v2/templates?limit=5'), 'limit');
  assertNames(await s.api('GET', '/v2/templates?limit=101'), 'limit');
});

test('role CRUD: partial updates keep stored values; subscriptions, bounds and in-use roles are checked', async () => {
  const t = await newTemplate('roles-crud');
  const base = `/v2/templates/${t.id}/roles`;

  const made = await s.api('POST', `${base}/moderator`, {
    permissions: { endRoom: true, removeOthers: true },
    priority: 2,
    maxPeerCount: -1,
    subscribeParams: { subscribeToRoles: ['host', 'moderator'] },
    publishParams: { allowed: ['audio', 'video'], video: { width: 640, height: 360 } },
  });
  assert.equal(made.status, 200, JSON.stringify(made.body));
  assert.equal(made.body.name, 'moderator');
  assert.equal(made.body.publishParams.video.width, 640);
  assert.equal(made.body.publishParams.video.codec, 'vp8', 'omitted video fields get defaults');

  const updated = await s.api('POST', `${base}/moderator`, { priority: 3 });
  assert.equal(updated.status, 200);
  assert.equal(updated.body.priority, 3);
  assert.equal(updated.body.permissions.endRoom, true, 'partial update keeps the stored permissions');
  assert.equal(updated.body.maxPeerCount, -1);
  assert.deepEqual((await s.api('GET', `${base}/moderator`)).body, updated.body);
  assert.equal((await s.api('GET', `/v2/templates/${t.id}`)).body.roles.moderator.priority, 3);

  assertNames(await s.api('POST', `${base}/moderator`, { subscribeParams: { subscribeToRoles: ['nobody'] } }), 'body/subscribeParams/subscribeToRoles/0');
  assertNames(await s.api('POST', `${base}/moderator`, { publishParams: { allowed: ['hologram'] } }), 'body/publishParams/allowed/0');
  assertNames(await s.api('POST', `${base}/moderator`, { priority: 6 }), 'body/priority');
  assertNames(await s.api('POST', `${base}/moderator`, { maxPeerCount: -2 }), 'body/maxPeerCount');
  assertNames(await s.api('POST', `${base}/moderator`, { publishParams: { video: { width: 4000 } } }), 'body/publishParams/video/width');
  assertNames(await s.api('POST', `${base}/moderator`, { publishParams: { audio: { bitRate: 8 } } }), 'body/publishParams/audio/bitRate');
  assertNames(await s.api('POST', `${base}/moderator`, { permissions: { endRoom: 'yes' } }), 'body/permissions/endRoom');
  assertNames(await s.api('POST', `${base}/moderator`, { name: 'other' }), 'body/name');

  // A room of this template with a code for the role: deleting the role switches the code off.
  const room = (await s.api('POST', '/v2/rooms', { name: 'roles-crud-room', template_id: t.id })).body;
  const code = `zz${objectId().slice(-8)}`;
  const at = rfc3339();
  await s.services.store.db
    .insertInto('room_codes')
    .values({ code, room_id: room.id, role: 'moderator', enabled: 1, created_at: at, updated_at: at })
    .execute();
  // host subscribes to moderator too; deleting moderator must leave host consistent.
  await s.api('POST', `${base}/host`, { subscribeParams: { subscribeToRoles: ['host', 'guest', 'moderator'] } });

  const del = await s.api('DELETE', `${base}/moderator`);
  assert.equal(del.status, 204);
  assert.equal((await s.api('GET', `${base}/moderator`)).status, 404);
  assert.deepEqual((await s.api('GET', `${base}/host`)).body.subscribeParams.subscribeToRoles, ['host', 'guest']);
  const row = await s.services.store.db.selectFrom('room_codes').select('enabled').where('code', '=', code).executeTakeFirstOrThrow();
  assert.equal(row.enabled, 0);
  assert.equal((await s.api('DELETE', `${base}/moderator`)).status, 404);

  const inUse = await s.api('DELETE', `${base}/${RECORDER_ROLE}`);
  assert.equal(inUse.status, 400);
  assert.ok(inUse.body.details.some((d: string) => d.includes('recordings/0/role')), names(inUse.body.details));
  assert.equal((await s.api('GET', `${base}/${RECORDER_ROLE}`)).body.hidden, true);
});

test('recording config: exactly one element, auto-start round trip, false booleans omitted, resolution bounds', async () => {
  const t = await newTemplate('rec-config');
  const path = `/v2/templates/${t.id}/recordings`;
  const one = { name: 'auto', role: RECORDER_ROLE, compositeRecording: { browserComposite: { autoStart: true, width: 1920, height: 1080 } } };

  assertNames(await s.api('POST', path, [one, { ...one, name: 'second' }]), 'body');
  assert.equal((await s.api('POST', path, [])).status, 400);

  const set = await s.api('POST', path, [one]);
  assert.equal(set.status, 200, JSON.stringify(set.body));
  assert.deepEqual(set.body, [
    {
      name: 'auto',
      role: RECORDER_ROLE,
      maxDuration: 14400,
      presignDuration: 86400,
      compositeRecording: { browserComposite: { enabled: true, autoStart: true, autoStopTimeout: 300, width: 1920, height: 1080 } },
      trackRecording: {},
      streamRecording: {},
    },
  ]);
  assert.deepEqual((await s.api('GET', path)).body, set.body);
  const dest = (await s.api('GET', `/v2/templates/${t.id}/destinations`)).body;
  assert.equal(dest.streamingDisabled, true, 'auto-start turns HLS/RTMP streaming off');
  assert.ok(dest.hlsDestinations.default, 'destinations stay stored');

  const off = await s.api('POST', path, [
    { name: 'manual', role: 'host', maxDuration: 1800, trackRecording: { enabled: false }, compositeRecording: { browserComposite: { autoStart: false, autoStopTimeout: 500 } } },
  ]);
  assert.equal(off.status, 200);
  assert.deepEqual(off.body[0].trackRecording, {});
  assert.equal('autoStart' in off.body[0].compositeRecording.browserComposite, false);
  assert.equal(off.body[0].compositeRecording.browserComposite.autoStopTimeout, 500);
  assert.equal(off.body[0].maxDuration, 1800);
  assert.equal((await s.api('GET', `/v2/templates/${t.id}/destinations`)).body.streamingDisabled, undefined);
  // Stored form keeps the false values for the code that reads it.
  const stored = await getTemplate(s.services.store.db, t.id);
  assert.equal(stored!.recordings[0].compositeRecording.browserComposite.autoStart, false);

  const bc = (o: Record<string, unknown>) => [{ name: 'r', role: RECORDER_ROLE, compositeRecording: { browserComposite: o } }];
  assertNames(await s.api('POST', path, bc({ width: 1920, height: 1920 })), 'body/0/compositeRecording/browserComposite/height');
  assertNames(await s.api('POST', path, bc({ width: 400, height: 720 })), 'body/0/compositeRecording/browserComposite/width');
  assertNames(await s.api('POST', path, bc({ width: 1280, height: 2000 })), 'body/0/compositeRecording/browserComposite/height');
  assertNames(await s.api('POST', path, bc({ width: 1281, height: 720 })), 'body/0/compositeRecording/browserComposite/width');
  assertNames(await s.api('POST', path, bc({ autoStopTimeout: -1 })), 'body/0/compositeRecording/browserComposite/autoStopTimeout');
  assertNames(await s.api('POST', path, [{ name: 'r', role: 'ghost' }]), 'body/0/role');
  assertNames(await s.api('POST', path, [{ name: 'r' }]), 'body/0/role');
  assertNames(await s.api('POST', path, [{ name: 'r', role: 'host', maxDuration: 0 }]), 'body/0/maxDuration');
  assert.equal((await s.api('POST', path, bc({ width: 1080, height: 1920 }))).status, 200, 'portrait 1080x1920 is allowed');
});

test('destinations: defaults filled, ladders and segment counts checked', async () => {
  const t = await newTemplate('dest-config');
  const path = `/v2/templates/${t.id}/destinations`;
  const layer = (width: number, height: number) => ({ width, height, videoBitrate: 1000, audioBitrate: 64 });

  const ok = await s.api('POST', path, {
    hlsDestinations: { main: { playlistType: 'event', layers: [layer(1920, 1080), layer(1280, 720)], recording: { hlsVod: true, layers: [layer(1280, 720)] } } },
    rtmpDestinations: { yt: { rtmpUrls: ['rtmp://example.com/live/key'] } },
  });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const main = ok.body.hlsDestinations.main;
  assert.equal(main.name, 'main');
  assert.equal(main.numPlaylistSegments, 5);
  assert.equal(main.videoFrameRate, 30);
  assert.equal(main.maxDuration, 14400);
  assert.equal(main.autoStopTimeout, 300);
  assert.equal(main.recording.hlsVod, true);
  assert.equal(main.recording.singleFilePerLayer, false);
  assert.deepEqual(Object.keys(ok.body.hlsDestinations), ['main'], 'a sent map replaces the stored one');
  assert.equal(ok.body.rtmpDestinations.yt.width, 1280);
  assert.deepEqual((await s.api('GET', path)).body, ok.body);
  // A body without rtmpDestinations keeps them.
  const hlsOnly = await s.api('POST', path, { hlsDestinations: { main: { numPlaylistSegments: 150, layers: [layer(1080, 1920), layer(360, 640)] } } });
  assert.equal(hlsOnly.status, 200, JSON.stringify(hlsOnly.body));
  assert.ok(hlsOnly.body.rtmpDestinations.yt);

  const hls = (d: Record<string, unknown>) => s.api('POST', path, { hlsDestinations: { main: d } });
  assertNames(await hls({ layers: [layer(1280, 720), layer(853, 480)] }), 'body/hlsDestinations/main/layers/1/width');
  assertNames(await hls({ layers: [layer(640, 360), layer(1280, 720)] }), 'body/hlsDestinations/main/layers/1');
  assertNames(await hls({ layers: [layer(1920, 1200)] }), 'body/hlsDestinations/main/layers/0');
  assertNames(await hls({ layers: [layer(160, 144)] }), 'body/hlsDestinations/main/layers/0');
  assertNames(await hls({ layers: [layer(2560, 1440)] }), 'body/hlsDestinations/main/layers/0/width');
  assertNames(await hls({ numPlaylistSegments: 2 }), 'body/hlsDestinations/main/numPlaylistSegments');
  assertNames(await hls({ numPlaylistSegments: 151 }), 'body/hlsDestinations/main/numPlaylistSegments');
  assertNames(await hls({ playlistType: 'vod' }), 'body/hlsDestinations/main/playlistType');
  assertNames(await hls({ name: 'other' }), 'body/hlsDestinations/main/name');
  assertNames(await hls({ recording: { layers: [layer(960, 540)] } }), 'body/hlsDestinations/main/recording/layers/0');
  assertNames(await s.api('POST', path, { rtmpDestinations: { yt: { rtmpUrls: ['http://x'] } } }), 'body/rtmpDestinations/yt/rtmpUrls/0');
  assertNames(
    await s.api('POST', path, { rtmpDestinations: { yt: { rtmpUrls: ['rtmp://a/1', 'rtmp://a/2', 'rtmp://a/3', 'rtmp://a/4'] } } }),
    'body/rtmpDestinations/yt/rtmpUrls',
  );
  assertNames(await s.api('POST', path, { transcriptions: { t1: { role: 'ghost' } } }), 'body/transcriptions/t1/role');
  assertNames(await s.api('POST', path, { browserRecordings: {} }), 'browserRecordings');
  assert.equal((await s.api('GET', path)).body.hlsDestinations.main.numPlaylistSegments, 150, 'rejected updates change nothing');
});

test('storage secret: stored, never echoed in full, masked value keeps it', async () => {
  const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  const upload = {
    type: 's3',
    location: 'my-bucket',
    prefix: 'rec/',
    options: { region: 'us-east-1', endpoint: 'http://127.0.0.1:9000' },
    credentials: { key: 'AKIAEXAMPLE', secretKey: secret },
  };
  const created = await s.api('POST', '/v2/templates', { name: 'with-storage', settings: { recording: { upload } } });
  assert.equal(created.status, 200);
  assert.equal(JSON.stringify(created.body).includes(secret), false);
  const id = created.body.id;
  assert.equal(created.body.settings.recording.upload.credentials.secretKey, '****EKEY');
  assert.equal(created.body.settings.recording.upload.credentials.key, 'AKIAEXAMPLE');

  const everywhere = [
    await s.api('GET', `/v2/templates/${id}`),
    await s.api('GET', `/v2/templates/${id}/settings`),
    await s.api('GET', '/v2/templates?limit=100'),
    await s.api('POST', `/v2/templates/${id}`, { settings: { region: 'in' } }),
  ];
  for (const r of everywhere) {
    assert.equal(r.status, 200);
    assert.equal(JSON.stringify(r.body).includes(secret), false, 'the full secret never appears');
  }
  assert.equal(everywhere[1].body.recording.upload.credentials.secretKey, '****EKEY');

  // Send back what GET returned, with a new prefix: the stored secret is kept.
  const echoed = everywhere[1].body.recording.upload;
  const kept = await s.api('POST', `/v2/templates/${id}/settings`, { recording: { upload: { ...echoed, prefix: 'other/' } } });
  assert.equal(kept.status, 200, JSON.stringify(kept.body));
  assert.equal(kept.body.recording.upload.prefix, 'other/');
  assert.equal(kept.body.recording.upload.credentials.secretKey, '****EKEY');
  let stored = await getTemplate(s.services.store.db, id);
  assert.equal(stored!.settings.recording!.upload!.credentials!.secretKey, secret);
  assert.equal(stored!.settings.region, 'in');

  const wrongMask = await s.api('POST', `/v2/templates/${id}/settings`, {
    recording: { upload: { ...echoed, credentials: { key: 'AKIAEXAMPLE', secretKey: '****ABCD' } } },
  });
  assertNames(wrongMask, 'body/recording/upload/credentials/secretKey');

  // A short secret shows nothing of itself.
  const short = await s.api('POST', `/v2/templates/${id}/settings`, { recording: { upload: { ...upload, credentials: { key: 'k', secretKey: 'tiny-secret' } } } });
  assert.equal(short.body.recording.upload.credentials.secretKey, '****');
  stored = await getTemplate(s.services.store.db, id);
  assert.equal(stored!.settings.recording!.upload!.credentials!.secretKey, 'tiny-secret');

  assertNames(await s.api('POST', `/v2/templates/${id}/settings`, { recording: { upload: { ...upload, type: 'dropbox' } } }), 'body/recording/upload/type');
  assertNames(
    await s.api('POST', `/v2/templates/${id}/settings`, { recording: { upload: { ...upload, options: { endpoint: 'ftp://x' } } } }),
    'body/recording/upload/options/endpoint',
  );
  assertNames(await s.api('POST', `/v2/templates/${id}/settings`, { recording: { upload: { type: 's3' } } }), 'body/recording/upload/location');

  const removed = await s.api('POST', `/v2/templates/${id}/settings`, { recording: { upload: null } });
  assert.equal(removed.status, 200);
  assert.equal(removed.body.recording.upload, undefined);
});

test('unknown template id → 404 on every template route; a room created with template_id uses it', async () => {
  const missing = 'aaaaaaaaaaaaaaaaaaaaaaaa';
  const calls: Array<[string, string, unknown?]> = [
    ['GET', `/v2/templates/${missing}`],
    ['POST', `/v2/templates/${missing}`, { name: 'n' }],
    ['GET', `/v2/templates/${missing}/settings`],
    ['POST', `/v2/templates/${missing}/settings`, { region: 'eu' }],
    ['GET', `/v2/templates/${missing}/destinations`],
    ['POST', `/v2/templates/${missing}/destinations`, {}],
    ['GET', `/v2/templates/${missing}/recordings`],
    ['POST', `/v2/templates/${missing}/recordings`, [{ name: 'r', role: 'host' }]],
    ['GET', `/v2/templates/${missing}/roles/host`],
    ['POST', `/v2/templates/${missing}/roles/host`, {}],
    ['DELETE', `/v2/templates/${missing}/roles/host`],
  ];
  for (const [method, path, body] of calls) {
    const r = await s.api(method, path, body);
    assert.equal(r.status, 404, `${method} ${path}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.code, 404);
  }
  assert.equal((await s.api('GET', '/v2/templates/bad$id')).status, 400);
  assert.equal((await s.api('GET', '/v2/templates', undefined, '')).status, 401);

  const t = await newTemplate('for-rooms');
  const room = await s.api('POST', '/v2/rooms', { name: 'templated-room', template_id: t.id });
  assert.equal(room.status, 200);
  assert.equal(room.body.template_id, t.id);
  assert.equal(room.body.template, 'for-rooms');
  const got = await s.api('GET', `/v2/rooms/${room.body.id}`);
  assert.equal(got.body.template, 'for-rooms');

  const spec = (await s.api('GET', '/openapi.json')).body;
  assert.ok(spec.paths['/v2/templates/{id}/roles/{role_name}'].delete, 'routes are documented');
  assert.ok(spec.paths['/v2/templates/{id}/recordings'].post.requestBody, 'bodies are documented');
});
