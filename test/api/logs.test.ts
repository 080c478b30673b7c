// What the server writes to stdout (its log stream) never holds a capability: HLS keys, VOD signatures,
// room codes, signed query values, tokens — nor a generated APP_SECRET. Runs `roomcast start` as a child
// process and reads everything it printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { signAppToken, signManagementToken } from '../../src/auth/tokens.js';
import { redactUrl } from '../../src/logger.js';

const cli = join(process.cwd(), 'dist', 'src', 'cli.js');
const hex = () => randomBytes(12).toString('hex');

test('redactUrl: capability path segments and signed query values are replaced', () => {
  assert.equal(redactUrl('/hls/abc/KEY123/master.m3u8'), '/hls/abc/[redacted]/master.m3u8');
  assert.equal(redactUrl('/vod/asset/1700000000/SIG/720p/index.m3u8'), '/vod/asset/1700000000/[redacted]/720p/index.m3u8');
  assert.equal(redactUrl('/meeting/abc-defg-hij?skip_preview=true'), '/meeting/[redacted]?skip_preview=true');
  assert.equal(redactUrl('/assets/c/r/a.mp4?expires=1&sig=SIG'), '/assets/c/r/a.mp4?expires=1&sig=[redacted]');
  assert.equal(redactUrl('/preview/r/host?auth_token=T&x=1'), '/preview/r/host?auth_token=[redacted]&x=1');
  assert.equal(redactUrl('https://h.example:8443/hls/s/K/x.ts?token=T'), 'https://h.example:8443/hls/s/[redacted]/x.ts?token=[redacted]');
  assert.equal(redactUrl('/v2/rooms?limit=10'), '/v2/rooms?limit=10');
});

test('roomcast start: request logs carry no capability, the generated APP_SECRET is never printed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-logs-'));
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'debug', RECORDER_WORKERS: '0' };
  delete env.ACCESS_KEY;
  delete env.APP_SECRET;
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, [cli, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const onData = () => {
        const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"[^\n]*roomcast listening/.exec(out);
        if (m) resolve(m[1]);
      };
      child.stdout.on('data', onData);
      child.once('exit', (code) => reject(new Error(`server exited (${code}) before listening:\n${out}`)));
    });
    const creds = JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8'));
    const keys = { accessKey: creds.access_key, appSecret: creds.app_secret };
    const mgmt = await signManagementToken(keys);
    const api = async <T>(method: string, path: string, body?: unknown, auth = true): Promise<T> => {
      const res = await fetch(url + path, {
        method,
        headers: { ...(auth ? { authorization: `Bearer ${mgmt}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      return (await res.json()) as T;
    };
    const room = await api<{ id: string }>('POST', '/v2/rooms', { name: 'logged' });
    const codes = await api<{ data: { code: string }[] }>('POST', `/v2/room-codes/room/${room.id}`);
    const code = codes.data[0].code;
    const appToken = await signAppToken(keys, { room_id: room.id, role: 'host', user_id: 'u' });

    const secrets = { hlsKey: hex(), vodSig: hex(), assetSig: hex(), queryToken: hex(), code, unknownCode: `q${hex().slice(0, 10)}` };
    await fetch(`${url}/meeting/${code}`);
    await fetch(`${url}/meeting/${code}?skip_preview=true`);
    await fetch(`${url}/hls/${hex()}/${secrets.hlsKey}/master.m3u8`);
    await fetch(`${url}/vod/${hex()}/9999999999/${secrets.vodSig}/master.m3u8`);
    await fetch(`${url}/assets/x/y/z.mp4?expires=9999999999&sig=${secrets.assetSig}`);
    await fetch(`${url}/preview/${room.id}/host?auth_token=${appToken}`);
    await fetch(`${url}/v2/rooms?token=${secrets.queryToken}`);
    await api('POST', '/v2/token', { code }, false);
    await api('POST', '/v2/token', { code: secrets.unknownCode }, false);
    await fetch(`${url}/meeting/${secrets.unknownCode}/extra`);
    await api('GET', `/v2/rooms/${room.id}`);

    child.kill('SIGTERM');
    await exited;
    // requests were logged at all (otherwise the test proves nothing)
    assert.match(out, /"url":"\/hls\/[0-9a-f]+\/\[redacted\]\/master\.m3u8"/);
    assert.match(out, /"url":"\/meeting\/\[redacted\]"/);
    assert.match(out, /"url":"\/vod\/[0-9a-f]+\/9999999999\/\[redacted\]\/master\.m3u8"/);
    for (const [name, value] of Object.entries({ ...secrets, appToken, mgmt, appSecret: creds.app_secret })) {
      assert.equal(out.includes(value), false, `${name} appears in the server output`);
    }
    // the first start says where the credentials are and how to show them
    assert.match(out, /credentials\.json/);
    assert.match(out, /roomcast credentials/);
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
