// Room secrets: webhook header values and the upload secret are shown masked and a masked value sent back
// keeps the stored one; storage endpoints on private addresses are refused (save time, upload time) unless
// STORAGE_ALLOW_PRIVATE.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { getRoomRow } from '../../src/store/rooms.js';
import { getTemplate, saveTemplate } from '../../src/store/templates.js';
import { storeFor, isConfigError, StoreConfigError } from '../../src/storage/index.js';

let s: TestServer;
before(async () => {
  // STORAGE_ALLOW_PRIVATE unset: the default rules
  s = await startTestServer({ RECORDER_WORKERS: '0' });
});
after(() => s.stop());

const HOOK_SECRET = 'Bearer hook-secret-0123456789-TAIL';

test('room webhook headers: masked in every response, the stored value kept and used; a masked value sent back keeps it', async () => {
  const created = await s.api('POST', '/v2/rooms', { name: 'hooked', webhook: { url: 'https://hooks.example.com/x', headers: { authorization: HOOK_SECRET, 'x-short': 'abc' } } });
  assert.equal(created.status, 200);
  const id = created.body.id;
  const shown = [created.body, (await s.api('GET', `/v2/rooms/${id}`)).body, (await s.api('GET', '/v2/rooms?limit=100')).body];
  for (const body of shown) assert.equal(JSON.stringify(body).includes('hook-secret'), false, JSON.stringify(body));
  assert.deepEqual(created.body.webhook.headers, { authorization: '****TAIL', 'x-short': '****' });
  assert.equal(JSON.parse((await getRoomRow(s.services.store.db, id))!.webhook!).headers.authorization, HOOK_SECRET, 'stored in full');

  // what GET showed, sent back with another change: the stored values stay
  const back = await s.api('POST', `/v2/rooms/${id}`, { description: 'd', webhook: created.body.webhook });
  assert.equal(back.status, 200);
  assert.deepEqual(JSON.parse((await getRoomRow(s.services.store.db, id))!.webhook!).headers, { authorization: HOOK_SECRET, 'x-short': 'abc' });
  // the same through the create-by-name path
  assert.equal((await s.api('POST', '/v2/rooms', { name: 'hooked', webhook: created.body.webhook })).status, 200);
  assert.equal(JSON.parse((await getRoomRow(s.services.store.db, id))!.webhook!).headers.authorization, HOOK_SECRET);

  // a masked value that is not the stored one's mask is refused, never stored as the value
  const wrong = await s.api('POST', `/v2/rooms/${id}`, { webhook: { url: 'https://hooks.example.com/x', headers: { authorization: '****XXXX' } } });
  assert.equal(wrong.status, 400);
  assert.ok(wrong.body.details.some((d: string) => d.includes('body/webhook/headers/authorization')), JSON.stringify(wrong.body));
  const fresh = await s.api('POST', '/v2/rooms', { name: 'hooked-new', webhook: { url: 'https://hooks.example.com/x', headers: { authorization: '****TAIL' } } });
  assert.equal(fresh.status, 400);
  // a new full value replaces it
  await s.api('POST', `/v2/rooms/${id}`, { webhook: { url: 'https://hooks.example.com/x', headers: { authorization: 'Bearer another-secret-value' } } });
  assert.equal(JSON.parse((await getRoomRow(s.services.store.db, id))!.webhook!).headers.authorization, 'Bearer another-secret-value');
});

test('room upload secret: masked value sent back keeps the stored secret', async () => {
  const secret = 'room-upload-secret-0123456789-WXYZ';
  const upload_info = { type: 's3', location: 'b', options: { region: 'us-east-1' }, credentials: { key: 'AK', secret } };
  const r = await s.api('POST', '/v2/rooms', { name: 'room-upload', recording_info: { enabled: true, upload_info } });
  assert.equal(r.status, 200);
  assert.equal(r.body.recording_info.upload_info.credentials.secret, '****WXYZ');
  const back = await s.api('POST', `/v2/rooms/${r.body.id}`, { recording_info: r.body.recording_info });
  assert.equal(back.status, 200);
  const stored = JSON.parse((await getRoomRow(s.services.store.db, r.body.id))!.recording_info!);
  assert.equal(stored.upload_info.credentials.secret, secret);
  assert.equal((await s.api('POST', `/v2/rooms/${r.body.id}`, { recording_info: { upload_info: { ...upload_info, credentials: { key: 'AK', secret: '****NOPE' } } } })).status, 400);
});

test('storage endpoint on a private address: 400 at save time for templates and rooms, naming STORAGE_ALLOW_PRIVATE', async () => {
  const upload = (endpoint: string) => ({ type: 's3', location: 'b', options: { region: 'us-east-1', endpoint }, credentials: { key: 'k', secretKey: 'secret-0123456789' } });
  for (const endpoint of ['http://127.0.0.1:9000', 'http://169.254.169.254/', 'http://[::1]:9000', 'http://10.1.2.3', 'http://localhost:9000', 'http://[::ffff:127.0.0.1]:9000']) {
    const t = await s.api('POST', '/v2/templates', { name: 'private-store', settings: { recording: { upload: upload(endpoint) } } });
    assert.equal(t.status, 400, endpoint);
    assert.equal(t.body.code, 400);
    assert.ok(t.body.details.some((d: string) => d.includes('body/settings/recording/upload/options/endpoint') && d.includes('STORAGE_ALLOW_PRIVATE')), JSON.stringify(t.body));
  }
  const tpl = (await s.api('POST', '/v2/templates', { name: 'public-store' })).body;
  const viaSettings = await s.api('POST', `/v2/templates/${tpl.id}/settings`, { recording: { upload: upload('http://192.168.1.20:9000') } });
  assert.equal(viaSettings.status, 400);
  assert.ok(viaSettings.body.details.some((d: string) => d.includes('body/recording/upload/options/endpoint')));
  assert.equal((await s.api('POST', `/v2/templates/${tpl.id}`, { settings: { recording: { upload: upload('http://127.0.0.2') } } })).status, 400);
  // a public address is fine
  assert.equal((await s.api('POST', `/v2/templates/${tpl.id}/settings`, { recording: { upload: upload('https://93.184.215.14') } })).status, 200);

  const room = await s.api('POST', '/v2/rooms', { name: 'private-room-store', recording_info: { upload_info: { type: 's3', location: 'b', options: { endpoint: 'http://127.0.0.1:9000' } } } });
  assert.equal(room.status, 400);
  assert.ok(room.body.details.some((d: string) => d.includes('body/recording_info/upload_info/options/endpoint')), JSON.stringify(room.body));
  const ok = await s.api('POST', '/v2/rooms', { name: 'public-room-store' });
  assert.equal((await s.api('POST', `/v2/rooms/${ok.body.id}`, { recording_info: { upload_info: { type: 's3', location: 'b', options: { endpoint: 'http://[fd00::1]/' } } } })).status, 400);
});

test('storage endpoint at upload time: a private endpoint is refused before connecting (a config error), allowed with STORAGE_ALLOW_PRIVATE', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-guard-'));
  const file = join(dir, 'f.txt');
  writeFileSync(file, 'x');
  const target = { type: 's3' as const, location: 'b', prefix: 'p', region: 'us-east-1', endpoint: 'http://127.0.0.1:1', key: 'k', secret: 'secret-0123456789' };
  try {
    const guarded = storeFor(target);
    const refused = await guarded.upload('p/f.txt', file).then(() => null, (e: unknown) => e);
    assert.ok(refused instanceof StoreConfigError, String(refused));
    assert.match(String((refused as Error).message), /127\.0\.0\.1.*STORAGE_ALLOW_PRIVATE/);
    assert.equal(isConfigError(refused), true, 'not retried until the configuration changes');
    await assert.rejects(guarded.delete('p/f.txt'), StoreConfigError);
    guarded.close();
    // defaults built from user input cannot be bent to another host either
    const azure = storeFor({ type: 'azure', location: 'c', prefix: 'p', key: 'acct@169.254.169.254/x', secret: Buffer.from('k').toString('base64') });
    await assert.rejects(azure.upload('p/f.txt', file), /169\.254\.169\.254.*STORAGE_ALLOW_PRIVATE/);
    const oss = storeFor({ type: 'oss', location: 'b', prefix: 'p', region: 'x@127.0.0.1:9/', key: 'k', secret: 's' });
    await assert.rejects(oss.upload('p/f.txt', file), /127\.0\.0\.1.*STORAGE_ALLOW_PRIVATE/);
    // allowed: the request really goes out (and fails to connect, port 1), no guard error
    const open = storeFor(target, { allowPrivateEndpoint: true });
    const err = await open.upload('p/f.txt', file).then(() => null, (e: unknown) => e);
    assert.ok(err && !(err instanceof StoreConfigError), String(err));
    open.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // a template that got a private endpoint past the save-time check (e.g. its name resolves elsewhere now):
  // the dashboard's storage test is refused at the write, naming the setting
  const t = (await s.api('POST', '/v2/templates', { name: 'later-private' })).body;
  const row = (await getTemplate(s.services.store.db, t.id))!;
  await saveTemplate(s.services.store.db, { ...row, settings: { ...row.settings, recording: { upload: { type: 's3', location: 'b', options: { region: 'us-east-1', endpoint: 'http://127.0.0.1:1' }, credentials: { key: 'k', secretKey: 'secret-0123456789' } } } } as any });
  const probe = await s.api('POST', '/dashboard/storage-test', { template_id: t.id });
  assert.equal(probe.status, 200);
  assert.equal(probe.body.ok, false);
  assert.equal(probe.body.stage, 'write');
  assert.match(probe.body.error, /STORAGE_ALLOW_PRIVATE/);
});
