// The dashboard in real headless Chromium: sign-in (wrong credentials refused, nothing shown without it),
// a template with auto-start toggled, a room and its codes, a fake-device peer in the room, a recording
// started and stopped from the room view (RECORDER_WORKERS=0: the API keeps it "starting", and a stop ends
// the job no recorder took at once, "failed" with BEAM_STOPPED; the UI must show exactly that), then the session page and an asset downloaded and
// played through presigned URLs. Screenshots of every page go to .test-artifacts/dashboard/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startTestServer, TEST_KEYS, type TestServer } from '../helpers/server.js';
import { objectId, rfc3339 } from '../../src/clock.js';
import { S3TestServer, S3_KEY, S3_REGION, S3_SECRET } from '../helpers/s3TestServer.js';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { WebhookReceiver } from '../helpers/webhookReceiver.js';
import { VodUrlSigner } from '../../src/storage/live.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SHOTS = join(ROOT, '.test-artifacts', 'dashboard');
const WEB = join(ROOT, 'src', 'web', 'dashboard');
const T = 30_000; // generous: two cores shared with other browsers

let s: TestServer;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;
let peerCtx: BrowserContext | null = null;
let work: string;
const s3 = new S3TestServer();
const hooks = new WebhookReceiver();
const problems: string[] = [];

const state: { templateId?: string; roomId?: string; hostCode?: string; sessionId?: string } = {};

async function shot(name: string, p: Page = page) {
  // from the top, so the sticky header sits where it belongs in a full-page capture
  await p.evaluate(() => window.scrollTo(0, 0));
  await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Waits until the dashboard's current page has settled (no "Loading…" left). */
async function settled(p: Page = page) {
  await p.waitForFunction(() => !document.querySelector('#view .loading'), undefined, { timeout: T });
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  work = mkdtempSync(join(tmpdir(), 'dashboard-e2e-'));
  // the webhook receiver is on 127.0.0.1: private targets allowed for this test
  s = await startTestServer({ RECORDER_WORKERS: '0', WEBHOOK_ALLOW_PRIVATE: 'true', STORAGE_ALLOW_PRIVATE: 'true' });
  await hooks.listen();
  // a real S3-compatible store (SigV4) for the storage tab's test upload
  await s3.start();
  await s3.createBucket('e2e-bucket');
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // the peer page: a fake camera and microphone, no permission prompt
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
  ctx = await browser.newContext({ viewport: { width: 1360, height: 900 }, acceptDownloads: true });
  page = await ctx.newPage();
  page.setDefaultTimeout(T);
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // 404s of routes other helpers have not finished and the 401s this test provokes are expected; script errors are not
    if (m.type() === 'error' && !/status of (404|401)/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
});

after(async () => {
  await peerCtx?.close().catch(() => {});
  await browser?.close();
  await s?.stop();
  s3.destroy();
  await hooks.close();
  rmSync(work, { recursive: true, force: true });
});

test('nothing is visible without sign-in, and wrong credentials are refused', async () => {
  await page.goto(`${s.url}/dashboard/#/templates`);
  await page.waitForSelector('#signin-form');
  assert.equal(await page.isVisible('#signin'), true);
  assert.equal(await page.isHidden('#app'), true);
  assert.equal(await page.locator('#view').innerHTML(), '', 'no page content before sign-in');
  assert.equal(await page.locator('table').count(), 0);
  await shot('signin');

  await page.fill('#access-key', TEST_KEYS.accessKey);
  await page.fill('#app-secret', 'not-the-secret');
  await page.click('#signin-submit');
  await page.waitForSelector('#signin-error:not([hidden])');
  assert.match(await page.textContent('#signin-error') ?? '', /refused/i);
  assert.equal(await page.isHidden('#app'), true);
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  await shot('signin-refused');

  // a pasted token is checked by the server: a well-formed token signed with another secret is refused
  await page.check('input[name="mode"][value="token"]');
  const forged = (await s.api('POST', '/dashboard/session', { access_key: TEST_KEYS.accessKey, app_secret: TEST_KEYS.appSecret }, '')).body.token.replace(/\.[^.]+$/, '.AAAA');
  await page.fill('#mgmt-token', forged);
  await page.click('#signin-submit');
  await page.waitForFunction(() => /refused/i.test(document.getElementById('signin-error')?.textContent ?? ''));
  assert.equal(await page.isHidden('#app'), true);
  const appToken = await s.appToken('aaaaaaaaaaaaaaaaaaaaaaaa', 'host');
  await page.fill('#mgmt-token', appToken);
  await page.click('#signin-submit');
  await page.waitForFunction(() => /not a management token/i.test(document.getElementById('signin-error')?.textContent ?? ''));
  await page.check('input[name="mode"][value="keys"]');

  // the route itself: a wrong pair is a 401 in the API's error shape, and never a token
  const bad = await s.api('POST', '/dashboard/session', { access_key: TEST_KEYS.accessKey, app_secret: 'x' }, '');
  assert.equal(bad.status, 401);
  assert.equal(bad.body.message, 'Invalid credentials');
  assert.equal(bad.body.token, undefined);
  assert.equal((await s.api('POST', '/dashboard/session', { access_key: 'x' }, '')).status, 400);
  // the storage test needs a management token
  assert.equal((await s.api('POST', '/dashboard/storage-test', { template_id: 'x' }, '')).status, 401);
});

test('sign in with the access key and secret: a one-hour management token in sessionStorage', async () => {
  await page.fill('#access-key', TEST_KEYS.accessKey);
  await page.fill('#app-secret', TEST_KEYS.appSecret);
  await page.click('#signin-submit');
  await page.waitForSelector('#app:not([hidden])');
  // it returns to the page asked for before sign-in
  await page.waitForSelector('#view h1:has-text("Templates")');
  const token = await page.evaluate(() => sessionStorage.getItem('roomcast.dashboard.token'));
  assert.ok(token);
  const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
  assert.equal(claims.type, 'management');
  assert.equal(claims.exp - claims.iat, 3600);
  assert.equal(await page.inputValue('#app-secret'), '', 'the secret is not kept in the form');
  const res = await s.api('GET', '/v2/templates', undefined, token);
  assert.equal(res.status, 200);
});

test('webhook settings: URL and a header saved from the Webhooks page', async () => {
  await page.goto(`${s.url}/dashboard/#/webhooks`);
  const form = page.locator('form[aria-label="Workspace webhook"]');
  await form.waitFor();
  await form.getByLabel('URL').fill(hooks.url('/hook'));
  await form.getByRole('button', { name: 'Add header' }).click();
  await form.getByLabel('Header name').fill('X-Dashboard-Test');
  await form.getByLabel('Header value').fill('e2e-header-secret-value');
  await form.getByRole('button', { name: 'Save webhook' }).click();
  await page.waitForSelector('.banner.ok');
  const settings = (await s.api('GET', '/v2/webhooks/settings')).body;
  assert.equal(settings.url, hooks.url('/hook'));
  assert.equal(settings.source, 'api');
  // the header value comes back masked, in the API and in the form
  assert.match(settings.headers['X-Dashboard-Test'], /^\*\*\*\*/);
  assert.equal(await form.getByLabel('Header value').inputValue(), settings.headers['X-Dashboard-Test']);
});

test('create a template, toggle auto-start on the Recording tab (it disables live streaming), storage test', async () => {
  await page.goto(`${s.url}/dashboard/#/templates`);
  await settled();
  await page.locator('#view').getByLabel('Name').fill('e2e-webinar');
  await page.getByRole('button', { name: 'Create template' }).click();
  await page.waitForURL(/#\/templates\/[0-9a-f]{24}$/);
  state.templateId = page.url().split('/').pop()!;
  await page.waitForSelector('table tbody tr[data-key="host"]');
  const roles = await page.locator('table tbody tr').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.key));
  assert.deepEqual(roles.sort(), ['guest', 'hls-viewer', 'host']);
  await shot('template-roles');

  // edit a role through the dialog: guest gets the recording permission
  await page.getByRole('button', { name: 'Edit role guest' }).click();
  await page.getByRole('dialog').getByLabel('Start/stop recording').check();
  await shot('template-role-dialog');
  await page.getByRole('dialog').getByRole('button', { name: 'Save role' }).click();
  await page.waitForSelector('dialog', { state: 'detached' });
  const guest = await s.api('GET', `/v2/templates/${state.templateId}/roles/guest`);
  assert.equal(guest.body.permissions.browserRecording, true);

  await page.click('nav.tabs a[data-tab="recording"]');
  const autoStart = page.locator('#view').getByLabel('Auto-start on room join');
  await autoStart.waitFor();
  assert.equal(await page.locator('#view').getByLabel('Enable composite recording').isChecked(), true);
  assert.equal(await autoStart.isChecked(), false);
  assert.match(await page.textContent('.tab-body') ?? '', /disables HLS and RTMP live streaming/);
  await autoStart.check();
  await page.locator('#view').getByLabel('Resolution').selectOption('1920x1080');
  await page.locator('#view').getByLabel('Auto-stop timeout (seconds)').fill('120');
  await page.getByRole('button', { name: 'Save recording settings' }).click();
  await page.waitForSelector('.banner.ok');
  let rec = (await s.api('GET', `/v2/templates/${state.templateId}/recordings`)).body[0];
  assert.equal(rec.compositeRecording.browserComposite.autoStart, true);
  assert.equal(rec.compositeRecording.browserComposite.width, 1920);
  assert.equal(rec.compositeRecording.browserComposite.autoStopTimeout, 120);
  assert.equal((await s.api('GET', `/v2/templates/${state.templateId}/destinations`)).body.streamingDisabled, true);
  await shot('template-recording');

  await page.click('nav.tabs a[data-tab="live"]');
  await page.waitForSelector('form[aria-label="HLS destination default"]');
  assert.match(await page.textContent('.tab-body') ?? '', /Live streaming is off for this template/);
  await shot('template-live');

  // back off again, so the room below is not recorded by auto-start when the peer joins
  await page.click('nav.tabs a[data-tab="recording"]');
  await page.locator('#view').getByLabel('Auto-start on room join').uncheck();
  await page.getByRole('button', { name: 'Save recording settings' }).click();
  await page.waitForSelector('.banner.ok');
  rec = (await s.api('GET', `/v2/templates/${state.templateId}/recordings`)).body[0];
  assert.equal(rec.compositeRecording.browserComposite.autoStart, undefined, 'GET omits false');
  assert.equal((await s.api('GET', `/v2/templates/${state.templateId}/destinations`)).body.streamingDisabled, undefined);

  // live streaming tab: change the playlist type and per-layer recording, saved through the API
  await page.click('nav.tabs a[data-tab="live"]');
  await page.waitForSelector('form[aria-label="HLS destination default"]');
  await page.locator('#view').getByLabel('Playlist type').selectOption('event');
  await page.locator('#view').getByLabel('VOD recording (room-vod asset)').check();
  await page.locator('form[aria-label="HLS destination default"] input[aria-label="Record this layer"]').last().uncheck();
  await page.getByRole('button', { name: 'Save live streaming settings' }).click();
  await page.waitForSelector('.banner.ok');
  const hls = (await s.api('GET', `/v2/templates/${state.templateId}/destinations`)).body.hlsDestinations.default;
  assert.equal(hls.playlistType, 'event');
  assert.equal(hls.recording.hlsVod, true);
  assert.deepEqual(hls.recording.layers.map((l: any) => l.height), [720, 480]);

  // storage: the own-bucket settings, the secret shown masked, and "test upload" against a real S3-compatible
  // store: with a wrong secret the store's own error is shown; with the right one the object is written and deleted
  await page.click('nav.tabs a[data-tab="storage"]');
  const v = page.locator('#view');
  await v.getByLabel('Where recordings go').selectOption('bucket');
  await v.getByLabel('Bucket').fill('e2e-bucket');
  await v.getByLabel('Path prefix').fill('dash');
  await v.getByLabel('Region').fill(S3_REGION);
  await v.getByLabel('Endpoint').fill(s3.endpoint);
  await v.getByLabel('Access key', { exact: true }).fill(S3_KEY);
  await v.getByLabel('Secret key').fill('wrong-secret-value-123456');
  const testBtn = page.getByRole('button', { name: 'Test upload' });
  assert.equal(await testBtn.isDisabled(), true, 'unsaved changes: test disabled');
  await page.getByRole('button', { name: 'Save storage settings' }).click();
  await page.waitForSelector('.banner.ok');
  assert.equal(await v.getByLabel('Secret key').inputValue(), '****3456');
  const settings = (await s.api('GET', `/v2/templates/${state.templateId}/settings`)).body;
  assert.equal(settings.recording.upload.location, 'e2e-bucket');
  assert.equal(settings.recording.upload.options.endpoint, s3.endpoint);
  await testBtn.click();
  const failure = page.locator('.card .banner.error').last();
  await failure.waitFor({ timeout: 60_000 });
  const text = (await failure.textContent()) ?? '';
  assert.match(text, /refused the test write/, text);
  assert.match(text, /SignatureDoesNotMatch|AccessDenied|InvalidAccessKeyId|403/, text);
  assert.ok(!text.includes('wrong-secret-value-123456'), 'no secret in the error');
  await shot('template-storage-error');

  await v.getByLabel('Secret key').fill(S3_SECRET);
  await page.getByRole('button', { name: 'Save storage settings' }).click();
  await page.waitForFunction(() => !!document.querySelector('.banner.ok') && !document.querySelector('.card .banner.error'));
  await testBtn.click();
  const success = page.locator('.card .banner.ok', { hasText: 'Upload works' });
  await success.waitFor({ timeout: 60_000 });
  assert.match((await success.textContent()) ?? '', /dash\/roomcast-storage-test\/.+\.txt in s3:\/\/e2e-bucket/);
  const c = s3.client();
  try {
    const left = await c.send(new ListObjectsV2Command({ Bucket: 'e2e-bucket', Prefix: 'dash/' }));
    assert.equal(left.KeyCount ?? 0, 0, 'the test object was deleted');
  } finally {
    c.destroy();
  }
  await shot('template-storage');
  // back to this server's disk for the rest
  await page.locator('#view').getByLabel('Where recordings go').selectOption('local');
  await page.getByRole('button', { name: 'Save storage settings' }).click();
  await page.waitForFunction(() => /This server/.test(document.querySelector('.banner.ok')?.textContent ?? ''));
  assert.equal((await s.api('GET', `/v2/templates/${state.templateId}/settings`)).body.recording?.upload, undefined);

  await page.goto(`${s.url}/dashboard/#/templates`);
  await page.waitForSelector(`table tbody tr[data-key="${state.templateId}"]`);
  await shot('templates');
});

test('create a room: it gets a room code per role, with copyable meeting links', async () => {
  await page.goto(`${s.url}/dashboard/#/rooms`);
  await settled();
  await page.getByLabel('Name', { exact: true }).fill('e2e-room');
  await page.getByLabel('Template', { exact: true }).selectOption({ label: 'e2e-webinar' });
  await page.getByRole('button', { name: 'Create room' }).click();
  await page.waitForURL(/#\/rooms\/[0-9a-f]{24}$/);
  state.roomId = page.url().split('/').pop()!;
  await page.waitForSelector('a.meeting-link');
  const codes = (await s.api('GET', `/v2/room-codes/room/${state.roomId}?limit=100`)).body.data as any[];
  assert.deepEqual(codes.map((c) => c.role).sort(), ['guest', 'hls-viewer', 'host']);
  const links = await page.locator('a.meeting-link').evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href));
  assert.deepEqual(links.sort(), codes.map((c) => `${s.url}/meeting/${c.code}`).sort());
  state.hostCode = codes.find((c) => c.role === 'host').code;
  // copy puts the link on the clipboard
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: s.url });
  await page.getByRole('button', { name: `Copy link: ${s.url}/meeting/${state.hostCode}` }).click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `${s.url}/meeting/${state.hostCode}`);
  // the join button opens the meeting link
  assert.equal(await page.getByRole('link', { name: 'Join as host' }).getAttribute('href'), `${s.url}/meeting/${state.hostCode}`);

  // disable → enable from the list
  await page.goto(`${s.url}/dashboard/#/rooms`);
  await page.waitForSelector(`tr[data-key="${state.roomId}"]`);
  await shot('rooms');
  await page.getByRole('button', { name: 'Disable room e2e-room' }).click();
  await page.waitForSelector(`tr[data-key="${state.roomId}"]`, { state: 'detached' });
  assert.equal((await s.api('GET', `/v2/rooms/${state.roomId}`)).body.enabled, false);
  await page.getByLabel('Show rooms').selectOption('false');
  await page.getByRole('button', { name: 'Enable room e2e-room' }).click();
  await page.waitForSelector(`tr[data-key="${state.roomId}"]`, { state: 'detached' });
  assert.equal((await s.api('GET', `/v2/rooms/${state.roomId}`)).body.enabled, true);
});

test('room live view: a fake-device peer shows up; start and stop a recording, status as the API has it', async () => {
  await page.goto(`${s.url}/dashboard/#/rooms/${state.roomId}`);
  await settled();
  // a peer joins with a fake camera and microphone through the host meeting link
  peerCtx = await browser.newContext();
  await peerCtx.grantPermissions(['camera', 'microphone'], { origin: s.url });
  const peer = await peerCtx.newPage();
  await peer.goto(`${s.url}/meeting/${state.hostCode}?skip_preview_headful=true&name=Fake%20Peer`);
  await peer.waitForSelector('body[data-joined="true"]', { timeout: 60_000 });

  await page.waitForSelector('td:has-text("Fake Peer")', { timeout: T });
  const active = await s.api('GET', `/v2/active-rooms/${state.roomId}`);
  assert.equal(active.status, 200);
  state.sessionId = active.body.session_id;

  const status = page.locator('.job.recording .job-status');
  assert.equal(await status.getAttribute('data-status'), 'none');
  await page.getByRole('button', { name: 'Start recording' }).click();
  const apiStatus = async () => (await s.api('GET', `/v2/recordings?room_id=${state.roomId}`)).body.data[0]?.status;
  await page.waitForSelector('.job.recording .job-status:not([data-status="none"])');
  // no recorder worker: the API says "starting" (or further, if one ran), and so does the page
  const first = await apiStatus();
  assert.ok(['starting', 'running'].includes(first), first);
  await page.waitForSelector(`.job.recording .job-status[data-status="${first}"]`);
  assert.match((await page.textContent('.job.recording .elapsed')) ?? '', /^\d+:\d\d$/);
  await shot('room-recording-starting');

  await page.getByRole('button', { name: 'Stop recording' }).click();
  await page.waitForSelector('.job.recording .job-status[data-status="stopping"], .job.recording .job-status[data-status="completed"], .job.recording .job-status[data-status="failed"]');
  const second = await apiStatus();
  await page.waitForSelector(`.job.recording .job-status[data-status="${second}"]`);
  assert.ok(['stopping', 'post_processing', 'completed', 'failed'].includes(second), second);
  // a job still ending keeps the start button away; a job no recorder took ends at once (failed, BEAM_STOPPED)
  // and the room can record again
  const ended = second === 'completed' || second === 'failed';
  await page.getByRole('button', { name: 'Start recording' }).waitFor({ state: ended ? 'visible' : 'hidden' });

  // the live stream the same way: start → the API's status on the page → stop
  const lsStatus = async () => (await s.api('GET', `/v2/live-streams?room_id=${state.roomId}`)).body.data[0]?.status;
  await page.getByRole('button', { name: 'Start live stream' }).click();
  await page.waitForSelector('.job.stream .job-status:not([data-status="none"])');
  const lsFirst = await lsStatus();
  assert.ok(['starting', 'running'].includes(lsFirst), lsFirst);
  await page.waitForSelector(`.job.stream .job-status[data-status="${lsFirst}"]`);
  await page.getByRole('button', { name: 'Stop live stream' }).click();
  await page.waitForSelector('.job.stream .job-status[data-status="stopping"], .job.stream .job-status[data-status="completed"], .job.stream .job-status[data-status="failed"]');
  const lsSecond = await lsStatus();
  await page.waitForSelector(`.job.stream .job-status[data-status="${lsSecond}"]`);
  await shot('room-live');

  await peer.close();
  await peerCtx.close();
  peerCtx = null;
  await page.waitForSelector('text=No one is in the room', { timeout: T });
});

test('sessions: find the session, see its peers, download and play an asset through presigned URLs', async () => {
  // a finished recording of the session with a real MP4 asset in the local store
  const mp4 = join(work, 'clip.mp4');
  const ff = spawnSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10', '-t', '2', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', '-y', mp4], { timeout: 60_000 });
  assert.equal(ff.status, 0, String(ff.stderr));
  const bytes = readFileSync(mp4);
  const recId = objectId();
  const at = rfc3339();
  await s.services.store.db
    .insertInto('recordings')
    .values({
      id: recId, room_id: state.roomId!, session_id: state.sessionId!, status: 'completed', meeting_url: `${s.url}/preview/${state.roomId}/x`,
      destination: 'default', asset_types: '["room-composite"]', width: 320, height: 240, audio_only: 0, max_duration: 14400,
      auto_stop_timeout: 300, paused: 0, started_by: '', stopped_by: '', stop_reason: 'client request', error_type: null, error_message: null,
      created_at: at, started_at: at, stopped_at: at, updated_at: at,
    })
    .execute();
  const key = `${s.services.customerId}/beam/${state.roomId}/20261120/Rec-${state.roomId}-1.mp4`;
  const { size } = s.services.localStorage.put(key, mp4);
  const assetId = objectId();
  await s.services.store.db
    .insertInto('assets')
    .values({
      id: assetId, job_id: recId, room_id: state.roomId!, session_id: state.sessionId!, type: 'room-composite', status: 'completed',
      path: s.services.localStorage.pathOf(key), storage: 'local', storage_key: key, size, duration: 2,
      metadata: JSON.stringify({ resolution: { width: 320, height: 240 } }), thumbnails: null, error_message: null, created_at: at, deleted_at: null,
    })
    .execute();

  await page.goto(`${s.url}/dashboard/#/sessions?room_id=${state.roomId}`);
  const link = page.getByRole('link', { name: `Session ${state.sessionId}` });
  await link.waitFor();
  await shot('sessions');
  await link.click();
  await page.waitForSelector('td:has-text("Fake Peer")');
  await page.waitForSelector(`tr[data-key="${assetId}"]`);
  // the recording started from the room view and the inserted one are both listed
  await page.waitForSelector(`tr[data-key="${recId}"]`);
  const peerRow = page.locator('tr', { hasText: 'Fake Peer' });
  assert.match((await peerRow.textContent()) ?? '', /host/);

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: `Download Rec-${state.roomId}-1.mp4` }).click()]);
  assert.equal(download.suggestedFilename(), `Rec-${state.roomId}-1.mp4`);
  assert.match(download.url(), /\/assets\/.+\?expires=\d+&sig=/);
  const got = readFileSync((await download.path())!);
  assert.deepEqual(got, bytes);

  await page.getByRole('button', { name: `Play Rec-${state.roomId}-1.mp4` }).click();
  const video = page.locator('.player-slot video');
  await video.waitFor();
  await page.waitForFunction(() => (document.querySelector('.player-slot video') as HTMLVideoElement | null)?.readyState! >= 1);
  const duration = await video.evaluate((v) => (v as HTMLVideoElement).duration);
  assert.ok(Math.abs(duration - 2) < 0.5, `duration ${duration}`);
  await shot('session');
});

test('HLS player: hls.js (light build, loaded on demand) plays a room-vod asset through the signed /vod URL', async (t) => {
  // a room-vod asset of the session: master playlist + one layer of 1-s segments, in the local store
  const vodKey = `${s.services.customerId}/hls/${state.roomId}/20261120/1/vod/master.m3u8`;
  const dir = dirname(s.services.localStorage.fileOf(vodKey));
  mkdirSync(join(dir, '0'), { recursive: true });
  const ff = spawnSync(
    'ffmpeg',
    ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10', '-t', '4', '-c:v', 'libx264', '-profile:v', 'baseline', '-level', '3.0', '-pix_fmt', 'yuv420p', '-g', '10',
      '-f', 'hls', '-hls_time', '1', '-hls_playlist_type', 'vod', '-hls_segment_filename', join(dir, '0', 'seg%03d.ts'), join(dir, '0', 'index.m3u8')],
    { timeout: 60_000 },
  );
  assert.equal(ff.status, 0, String(ff.stderr));
  writeFileSync(join(dir, 'master.m3u8'), '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=400000,RESOLUTION=320x240,CODECS="avc1.42c01e"\n0/index.m3u8\n');
  const assetId = objectId();
  await s.services.store.db
    .insertInto('assets')
    .values({
      id: assetId, job_id: objectId(), room_id: state.roomId!, session_id: state.sessionId!, type: 'room-vod', status: 'completed',
      path: s.services.localStorage.pathOf(vodKey), storage: 'local', storage_key: vodKey, size: 1, duration: 4,
      metadata: JSON.stringify({ num_layers: '1', max_width: 320, max_height: 240 }), thumbnails: null, error_message: null, created_at: rfc3339(), deleted_at: null,
    })
    .execute();

  const url = new VodUrlSigner(TEST_KEYS.appSecret, () => s.services.config.publicUrl).presign(assetId, 600).url;
  // the same hash would not load the page again: reload it
  await page.goto(`${s.url}/dashboard/#/sessions/${state.sessionId}`);
  await page.reload();
  await page.waitForSelector(`tr[data-key="${assetId}"]`);
  assert.match((await page.textContent(`tr[data-key="${assetId}"]`)) ?? '', /1 layers, up to 320×240/);
  // the player module, as the room view uses it for a running stream: hls.js (light build) loaded on demand
  const played = await page.evaluate(async ([src, mod]) => {
    const { hlsPlayer } = await import(mod);
    const p = hlsPlayer(src, { label: 'test', live: true });
    document.querySelector('#view')!.append(p.el);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !(p.video.currentTime > 1.5) && !p.el.dataset.error) await new Promise((r) => setTimeout(r, 200));
    const out = { time: p.video.currentTime, error: p.el.dataset.error ?? null, width: p.video.videoWidth, hls: typeof (window as any).Hls };
    p.destroy();
    return out;
  }, [url, '/dashboard/js/player.js']);
  assert.equal(played.error, null);
  assert.equal(played.hls, 'function');
  assert.ok(played.time > 1.5, `played to ${played.time}`);
  assert.equal(played.width, 320);

  // the row's Play button uses GET /v2/recording-assets/<id>/presigned-url: playable once that returns a path-signed
  // /vod/ URL for local room-vod assets (an /assets/ URL signs master.m3u8 alone, not the playlists it names)
  const pre = await s.api('GET', `/v2/recording-assets/${assetId}/presigned-url`);
  if (!new URL(pre.body.url).pathname.startsWith('/vod/')) {
    t.diagnostic(`presigned-url of a local room-vod asset is ${pre.body.url}: the Play button cannot play it yet`);
    return;
  }
  await page.getByRole('button', { name: 'Play master.m3u8' }).click();
  await page.waitForFunction(() => (document.querySelector('.player-slot video') as HTMLVideoElement | null)?.readyState! >= 2, undefined, { timeout: T });
  await page.evaluate(() => {
    const v = document.querySelector('.player-slot video') as HTMLVideoElement;
    v.muted = true;
    return v.play();
  });
  await page.waitForSelector('.player-slot .player-box[data-playing="true"]', { timeout: T });
});

test('webhooks page: the delivery log lists what reached the receiver, and a delivery can be replayed', async () => {
  // the peer's join and leave and the session's open and close went to the receiver with the custom header
  const types = () => hooks.accepted.map((r) => r.body?.type);
  for (let i = 0; i < 120 && !types().includes('session.close.success'); i++) await new Promise((r) => setTimeout(r, 500));
  assert.ok(types().includes('session.open.success'), types().join(','));
  assert.ok(types().includes('peer.join.success'), types().join(','));
  assert.equal(hooks.accepted[0].headers['x-dashboard-test'], 'e2e-header-secret-value');

  await page.goto(`${s.url}/dashboard/#/webhooks?room_id=${state.roomId}`);
  const row = page.locator('tr', { hasText: 'peer.join.success' }).first();
  await row.waitFor();
  assert.match((await row.textContent()) ?? '', /success/i);
  assert.ok(((await row.textContent()) ?? '').includes(hooks.url('/hook')));
  await shot('webhooks');

  const before = hooks.accepted.filter((r) => r.body?.type === 'peer.join.success').length;
  await row.getByRole('button', { name: /^Replay peer\.join\.success/ }).click();
  await page.waitForSelector('.banner.ok:has-text("Replay started")');
  for (let i = 0; i < 120 && hooks.accepted.filter((r) => r.body?.type === 'peer.join.success').length === before; i++) await new Promise((r) => setTimeout(r, 500));
  assert.equal(hooks.accepted.filter((r) => r.body?.type === 'peer.join.success').length, before + 1);

  // failed-only view: nothing failed here, and the page says so
  await page.goto(`${s.url}/dashboard/#/webhooks?status=failed`);
  await page.waitForSelector('text=No deliveries in this range');
});

test('narrow screens: the pages fit a phone width without sideways scrolling', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  try {
    for (const [name, hash, ready] of [
      ['room-mobile', `#/rooms/${state.roomId}`, 'a.meeting-link'],
      ['session-mobile', `#/sessions/${state.sessionId}`, 'td:has-text("Fake Peer")'],
      ['template-mobile', `#/templates/${state.templateId}/live`, 'form[aria-label="HLS destination default"]'],
    ] as const) {
      await page.goto(`${s.url}/dashboard/${hash}`);
      await page.waitForSelector(ready);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${name}: ${overflow}px wider than the screen`);
      await shot(name);
    }
  } finally {
    await page.setViewportSize({ width: 1360, height: 900 });
  }
});

test('a 401 from the API sends the user back to sign-in; sign out clears the token', async () => {
  await page.evaluate(() => sessionStorage.setItem('roomcast.dashboard.token', sessionStorage.getItem('roomcast.dashboard.token')!.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))));
  await page.goto(`${s.url}/dashboard/#/rooms`);
  await page.waitForSelector('#signin:not([hidden])');
  assert.match((await page.textContent('#signin-error')) ?? '', /session has ended/i);
  assert.equal(await page.isHidden('#app'), true);
  assert.equal(await page.locator('#view').innerHTML(), '');

  await page.fill('#access-key', TEST_KEYS.accessKey);
  await page.fill('#app-secret', TEST_KEYS.appSecret);
  await page.click('#signin-submit');
  await page.waitForSelector('#app:not([hidden])');
  await page.click('#signout');
  await page.waitForSelector('#signin:not([hidden])');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('roomcast.dashboard.token')), null);
});

test('script budget: the dashboard scripts are small, hls.js is served from /dashboard/vendor', async () => {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.js')) files.push(p);
    }
  };
  walk(WEB);
  const total = files.reduce((n, f) => n + statSync(f).size, 0);
  assert.ok(total < 300 * 1024, `dashboard scripts ${total} bytes`);
  for (const name of ['hls.min.js', 'hls.light.min.js']) {
    const res = await fetch(`${s.url}/dashboard/vendor/${name}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /javascript/);
    assert.ok((await res.text()).includes('Hls'), name);
  }
  assert.deepEqual(problems, [], problems.join('\n'));
});
