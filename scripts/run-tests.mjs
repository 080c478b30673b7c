#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) in one node:test run, one file at a time:
// the media tests start browsers and encoders, and 2 cores are all CI has.
// Before them, the layering check (dependency-cruiser, .dependency-cruiser.cjs) must pass.
// Optional arguments filter files by substring: `node scripts/run-tests.mjs rooms auth`.
// `--node 24` runs them under that Node instead (from the npm registry, see other-node.mjs). With CI=true the
// tests outside test/e2e (no browser) then run again under each Node in ROOMCAST_TEST_ALSO_NODE (default "24").
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareNode, versionMatches } from './other-node.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const testRoot = join(root, 'dist', 'test');

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.test.js') ? [p] : [];
  });
}

function parseArgs(argv) {
  const filters = [];
  let node = null;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--node') node = argv[++i] ?? '';
    else if (argv[i].startsWith('--node=')) node = argv[i].slice('--node='.length);
    else filters.push(argv[i]);
  }
  return { filters, node };
}

/** One node:test run of files under the given Node; its exit status. */
function runSuite(nodeBin, env, files) {
  const res = spawnSync(nodeBin, ['--enable-source-maps', '--test', '--test-concurrency=1', ...files], {
    cwd: root,
    stdio: 'inherit',
    env: { ...env, NODE_ENV: 'test' },
  });
  return res.status ?? 1;
}

function underNode(spec, files) {
  let node;
  try {
    node = prepareNode(spec);
  } catch (err) {
    console.error(`[run-tests] cannot run under Node ${spec}: ${err.message}`);
    return 1;
  }
  console.error(`[run-tests] ${files.length} test files under Node ${node.version}`);
  return runSuite(node.bin, node.env, files);
}

/** The layering check (.dependency-cruiser.cjs) over the compiled sources; its exit status. */
function checkLayers() {
  const res = spawnSync(join(root, 'node_modules', '.bin', 'depcruise'), ['dist/src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], {
    cwd: root,
    stdio: 'inherit',
  });
  return res.status ?? 1;
}

const { filters, node } = parseArgs(process.argv.slice(2));
// layers and import cycles first: a violation fails the run before any test starts
const layers = checkLayers();
if (layers !== 0) {
  console.error('[run-tests] the layering check failed (.dependency-cruiser.cjs, docs/architecture.md)');
  process.exit(layers);
}
const files = walk(testRoot)
  .map((p) => relative(root, p))
  .filter((p) => filters.length === 0 || filters.some((f) => p.includes(f)))
  // fast API tests first, browser-driven tests last
  .sort((a, b) => Number(a.includes('/e2e/')) - Number(b.includes('/e2e/')) || a.localeCompare(b));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

if (node !== null) process.exit(underNode(node, files));

let status = runSuite(process.execPath, process.env, files);
const alsoNodes = process.env.CI === 'true' ? (process.env.ROOMCAST_TEST_ALSO_NODE ?? '24').split(/[\s,]+/).filter(Boolean) : [];
// test/e2e drives Chromium, Firefox and the recorder: that part stays on the machine's Node alone
const withoutBrowser = files.filter((p) => !p.includes('/e2e/'));
for (const spec of alsoNodes) {
  if (versionMatches(process.versions.node, spec) || withoutBrowser.length === 0) continue;
  console.error(`[run-tests] Node ${process.versions.node}: ${status === 0 ? 'passed' : `FAILED (exit ${status})`}; now the tests without browser under Node ${spec}`);
  const extra = underNode(spec, withoutBrowser);
  if (status === 0) status = extra;
}
process.exit(status);
