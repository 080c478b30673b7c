// The recorder's handler process takes timed metadata (channel message `metadata`) and records it in the
// capture's work directory as metadata.json, in the order sent, also what came before the start message.
// The real handler process runs; its capture is refused at the stage's first check (an odd display size), so
// no display, browser or encoder starts: what is tested is the handler's side of the channel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HANDLER_SCRIPT } from '../../src/recorder/handlerClient.js';
import { readMessages, messageWriter, type FromHandler, type ToHandler } from '../../src/recorder/channel.js';
import type { CaptureSpec } from '../../src/recorder/jobSpec.js';
import { appendMetadata, readMetadata, METADATA_FILE } from '../../src/recorder/metadataFile.js';

test('the handler records timed metadata in the work directory, in order, also when sent before the start', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'handler-metadata-'));
  const workDir = join(dir, 'attempt-1');
  try {
    const child = spawn(process.execPath, [HANDLER_SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const received: FromHandler[] = [];
    void readMessages<FromHandler>(child.stdout, (m) => received.push(m));
    const send = messageWriter<ToHandler>(child.stdin);
    const before = Date.now();
    send({ type: 'metadata', payload: 'chapter-1' });
    // not a metadata message of the channel: a payload must be a string
    send({ type: 'metadata', payload: { not: 'a string' } } as unknown as ToHandler);
    send({ type: 'metadata', payload: '{"slide":2}' });
    const spec: CaptureSpec = {
      url: 'http://127.0.0.1:9/never-opened',
      allowedHosts: ['127.0.0.1:9'],
      joinTimeoutMs: 1000,
      // the display refuses an odd size before starting anything
      size: { width: 15, height: 15 },
      fps: 25,
      audioOnly: false,
      audioOffsetMs: 0,
      workDir,
      output: { kind: 'mp4File', width: 15, height: 15 },
    };
    send({ type: 'start', spec, logLevel: 'silent' });
    assert.equal(await exited, 0);
    const finished = received.find((m) => m.type === 'finished');
    assert.ok(finished && finished.type === 'finished', JSON.stringify(received));
    assert.match(finished.error ?? '', /display size/);

    assert.ok(existsSync(join(workDir, METADATA_FILE)));
    const entries = readMetadata(workDir);
    assert.deepEqual(
      entries.map((e) => e.payload),
      ['chapter-1', '{"slide":2}'],
    );
    for (const e of entries) {
      const at = Date.parse(e.received_at);
      assert.ok(at >= before - 1000 && at <= Date.now(), e.received_at);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('metadata.json keeps what it had: later entries are added after the earlier ones', () => {
  const dir = mkdtempSync(join(tmpdir(), 'handler-metadata-'));
  try {
    assert.deepEqual(readMetadata(dir), []);
    appendMetadata(dir, [{ payload: 'a', received_at: '2026-01-01T00:00:00.000Z' }]);
    appendMetadata(dir, []);
    appendMetadata(dir, [
      { payload: 'b', received_at: '2026-01-01T00:00:01.000Z' },
      { payload: 'c', received_at: '2026-01-01T00:00:02.000Z' },
    ]);
    assert.deepEqual(
      readMetadata(dir).map((e) => e.payload),
      ['a', 'b', 'c'],
    );
    assert.ok(!existsSync(join(dir, `${METADATA_FILE}.tmp`)), 'no temporary file left');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
