#!/usr/bin/env node
// Installs what roomcast needs on a fresh Debian machine, and nothing twice:
//  - Debian packages for the recorder (ffmpeg, chromium, Xvfb, PulseAudio) when a binary is missing;
//  - with --test, also the servers and tools the tests run against (PostgreSQL, Redis, Firefox, coturn, nftables);
//  - npm packages when node_modules is missing or older than package-lock.json.
// Another Node for the tests (`npm test -- --node 24`, and Node 24 in CI) is run-tests.mjs's business: other-node.mjs.
// Plain JavaScript with no dependencies: it runs before `npm ci`.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const forTests = process.argv.includes('--test');

function log(msg) {
  process.stderr.write(`[setup] ${msg}\n`);
}

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function pgBinDir() {
  for (const v of ['17', '16', '15', '14', '13']) {
    const dir = `/usr/lib/postgresql/${v}/bin`;
    if (existsSync(join(dir, 'initdb'))) return dir;
  }
  return null;
}

// binary to check → Debian package that provides it
const wanted = [
  ['ffmpeg', 'ffmpeg'],
  ['ffprobe', 'ffmpeg'],
  ['chromium', 'chromium'],
  ['Xvfb', 'xvfb'],
  ['pulseaudio', 'pulseaudio'],
  ['pactl', 'pulseaudio-utils'],
  // node-gyp builds better-sqlite3 (npm ci; run-tests.mjs --node N for another Node's ABI)
  ['python3', 'python3'],
  ['make', 'make'],
  ['g++', 'g++'],
];
const missing = new Set(wanted.filter(([bin]) => !have(bin)).map(([, pkg]) => pkg));
if (!existsSync('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf')) missing.add('fonts-dejavu-core');
if (forTests) {
  if (!pgBinDir()) missing.add('postgresql');
  // the fleet's job dispatch (BullMQ) runs on Redis: test/jobs/bullQueue.test.ts starts its own server
  if (!have('redis-server')) missing.add('redis-server');
  // test/e2e/meetingFirefox.test.ts drives stock Firefox over WebDriver BiDi
  if (!have('firefox-esr')) missing.add('firefox-esr');
  // test/e2e/network.test.ts: peers in network namespaces behind nftables rules, relayed by coturn
  if (!have('ip')) missing.add('iproute2');
  if (!have('nft')) missing.add('nftables');
  if (!have('turnserver')) missing.add('coturn');
}

if (missing.size > 0) {
  const pkgs = [...missing];
  if (process.getuid?.() !== 0) {
    log(`missing Debian packages: ${pkgs.join(' ')} — run as root or install them: apt-get install ${pkgs.join(' ')}`);
    process.exit(1);
  }
  log(`installing Debian packages: ${pkgs.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env,
  });
}

// npm packages: reinstall when package-lock.json changed since the last install.
const lockPath = join(root, 'package-lock.json');
const stampPath = join(root, 'node_modules', '.roomcast-lock-hash');
const lockHash = createHash('sha256').update(readFileSync(lockPath)).digest('hex');
const installed = existsSync(stampPath) ? readFileSync(stampPath, 'utf8').trim() : '';
if (installed !== lockHash) {
  log('installing npm packages (npm ci)');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: root, stdio: 'inherit' });
  writeFileSync(stampPath, lockHash);
}
