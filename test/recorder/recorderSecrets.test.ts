// The recorder's token stays secret when the recorder fails: real Chromium (recorder stage: Xvfb, PulseAudio,
// headful Chromium) opening our own meeting page on a port that refuses connections — Chromium's navigation
// error quotes the whole URL, auth_token included — leaves no token in the job's error_message, its events
// or any log line. Also: beam.recording.success's URL lives the recording config's presignDuration.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/webhookReceiver.js';
import { EgressWorker } from '../../src/recorder/worker.js';
import type { LaunchCapture } from '../../src/recorder/jobSpec.js';
import { launchBeam } from '../../src/recorder/beam.js';
import { ffmpegMediaTools, type MediaTools } from '../../src/recorder/mediaTools.js';
import { liveProcesses } from '../../src/recorder/proc.js';

let s: TestServer;
const logLines: string[] = [];
const JWT = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\./;

before(async () => {
  s = await startTestServer({ RECORDER_WORKERS: '0', RECORDER_JOIN_TIMEOUT_SECONDS: '5' });
  // every log line of the server from here on, at every level
  (s.services as { log: unknown }).log = pino({ level: 'trace' }, { write: (line: string) => void logLines.push(line) });
});
after(async () => {
  await s?.stop();
  assert.deepEqual(liveProcesses(), [], 'recorder processes left behind');
});

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function finished(id: string) {
  return waitFor(`recording ${id} finished`, async () => {
    const r = await s.api('GET', `/v2/recordings/${id}`);
    return ['completed', 'failed'].includes(r.body.status) ? r.body : null;
  }, 180_000);
}

test('a navigation that fails on a URL carrying the minted token: error_message, events and logs have no token', async () => {
  const roomId = (await s.api('POST', '/v2/rooms', { name: 'secret-nav' })).body.id;
  const realPublicUrl = s.services.config.publicUrl;
  // "our own" page on a port nothing listens on: the recorder mints its token for it, Chromium cannot connect
  s.services.config.publicUrl = `http://127.0.0.1:${await closedPort()}`;
  const worker = new EgressWorker(s.services, launchBeam, ffmpegMediaTools, 1);
  try {
    const start = await s.api('POST', `/v2/recordings/room/${roomId}/start`, {});
    assert.equal(start.status, 200, JSON.stringify(start.body));
    worker.start();
    const done = await finished(start.body.id);
    assert.equal(done.status, 'failed');
    assert.equal(done.error_type, 'MAX_RETRIES_REACHED');
    // the navigation error is kept, with its URL, and the token is out of it
    assert.match(done.error_message, /ERR_CONNECTION_REFUSED/);
    assert.match(done.error_message, /auth_token=\[redacted\]/, 'a token was minted and taken out');
    assert.doesNotMatch(done.error_message, JWT);
    const events = await s.services.events.list({ roomId });
    const failure = events.find((e) => e.type === 'beam.failure');
    assert.ok(failure, JSON.stringify(events.map((e) => e.type)));
    assert.match(String((failure.data as any).error_message), /ERR_CONNECTION_REFUSED/);
    assert.doesNotMatch(JSON.stringify(events), JWT);
    const joinLogs = logLines.filter((l) => l.includes('could not join'));
    assert.ok(joinLogs.length >= 1, 'the failed attempts are logged');
    const leaking = logLines.filter((l) => JWT.test(l));
    assert.deepEqual(leaking, [], 'no log line carries a token');
  } finally {
    await worker.stop();
    s.services.config.publicUrl = realPublicUrl;
  }
});

test('beam.recording.success (this server\'s storage): the URL expires after the recording config presignDuration', async () => {
  const t = await s.api('POST', '/v2/templates', { name: 'presign-local' });
  assert.equal((await s.api('POST', `/v2/templates/${t.body.id}/recordings`, [{ name: 'default', role: '__internal_recorder', presignDuration: 5400 }])).status, 200);
  const roomId = (await s.api('POST', '/v2/rooms', { name: 'presign-local', template_id: t.body.id })).body.id;
  // a capture without a browser: one segment file, "recorded" as soon as it launches
  const fakeLaunch: LaunchCapture = async (o) => {
    mkdirSync(o.workDir, { recursive: true });
    const seg = join(o.workDir, 'segment-0000.mp4');
    writeFileSync(seg, Buffer.alloc(2048, 1));
    return {
      firstFrame: Promise.resolve(new Date()),
      crashed: new Promise<string>(() => undefined),
      pause: async () => undefined,
      resume: async () => undefined,
      stop: async () => ({ files: [seg], graceful: true }),
      processes: () => ({ encoders: [], others: [] }),
    };
  };
  const media: MediaTools = { durationOf: async () => 3, joinSegments: async () => undefined };
  const worker = new EgressWorker(s.services, fakeLaunch, media, 1);
  worker.start();
  try {
    const start = await s.api('POST', `/v2/recordings/room/${roomId}/start`, {});
    await waitFor('running', async () => (await s.api('GET', `/v2/recordings/${start.body.id}`)).body.status === 'running', 30_000);
    const before = Math.floor(Date.now() / 1000);
    assert.equal((await s.api('POST', `/v2/recordings/${start.body.id}/stop`)).status, 200);
    const ev = await waitFor('beam.recording.success', async () => (await s.services.events.list({ type: 'beam.recording.success', roomId }))[0], 30_000);
    const u = new URL(String((ev.data as any).recording_presigned_url));
    const expires = Number(u.searchParams.get('expires'));
    assert.ok(expires >= before + 5400 && expires <= Math.floor(Date.now() / 1000) + 5400, `expires ${expires - before} s after stop`);
    assert.equal((await fetch(u)).status, 200);
  } finally {
    await worker.stop();
  }
});
