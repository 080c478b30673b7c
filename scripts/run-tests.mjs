#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) in one node:test run, one file at a time:
// the media tests start browsers and encoders, and 2 cores are all CI has.
// Before them, the layering check (dependency-cruiser, .dependency-cruiser.cjs), the SQL-layer check (no SQL
// outside src/store/, scripts/check-sql-layer.mjs) and the duplicate-code check (jscpd, .jscpd.json) must pass.
// Optional arguments filter files by substring: `node scripts/run-tests.mjs rooms auth`.
// `--node 24` runs them under that Node instead (from the npm registry, see other-node.mjs). With CI=true the
// server's own tests (test/api, domain, store, sfu) then run again under each Node in ROOMCAST_TEST_ALSO_NODE (default "24").
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

/** The SQL-layer check (scripts/check-sql-layer.mjs): no query outside src/store/; its exit status. */
function checkSqlLayer() {
  const res = spawnSync(process.execPath, [join(root, 'scripts', 'check-sql-layer.mjs')], { cwd: root, stdio: 'inherit' });
  return res.status ?? 1;
}

/**
 * The duplicate-code check (jscpd, .jscpd.json) over the TypeScript sources in src/; its exit status. Prints
 * the number of clones and duplicated lines, and where each clone is. Any clone fails the run: shared code
 * goes into one module (the two job kinds share store/jobRows.ts, store/jobObjects.ts), not into copies.
 *
 * Threshold: a clone is 6+ lines and 50+ tokens alike. At 60 tokens (its report counts blanks and line breaks as tokens, its threshold does not)
 * reports) the copies between the job kinds went unseen: the API object's shared fields (store/recordings.ts
 * ~ store/liveStreams.ts, 8 lines) and a new job row's columns (the two services, 12 lines). At 5 lines or
 * 40-45 tokens it flags boilerplate: import blocks, route schema options, two-line guard pairs.
 * Not checked: src/web (browser JavaScript served as-is, another language and runtime, outside this
 * TypeScript check) and src/store/migrations.ts (each migration is a frozen copy of the tables as they were
 * then: "never edit one that has shipped", so the repeated job columns there are by design).
 */
function checkDuplicates() {
  const out = mkdtempSync(join(tmpdir(), 'roomcast-jscpd-'));
  try {
    const res = spawnSync(join(root, 'node_modules', '.bin', 'jscpd'), ['--config', '.jscpd.json', '--reporters', 'json', '--output', out, '--silent'], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    let report;
    try {
      report = JSON.parse(readFileSync(join(out, 'jscpd-report.json'), 'utf8'));
    } catch {
      console.error(`[run-tests] jscpd wrote no report (exit ${res.status ?? res.signal ?? res.error?.message})`);
      return res.status || 1;
    }
    const total = report.statistics.total;
    console.error(
      `[run-tests] duplicate code (jscpd, .jscpd.json): ${total.clones} clones, ${total.duplicatedLines} duplicated lines (${total.percentage}%) in ${total.sources} files`,
    );
    for (const d of report.duplicates) {
      console.error(`  ${d.firstFile.name}:${d.firstFile.start}-${d.firstFile.end} ~ ${d.secondFile.name}:${d.secondFile.start}-${d.secondFile.end} (${d.lines} lines)`);
    }
    return total.clones > 0 ? 1 : 0;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const { filters, node } = parseArgs(process.argv.slice(2));
// layers, import cycles, SQL outside the store and copied code first: a violation fails the run before any test starts
const layers = checkLayers();
if (layers !== 0) {
  console.error('[run-tests] the layering check failed (.dependency-cruiser.cjs, docs/architecture.md)');
  process.exit(layers);
}
const sqlLayer = checkSqlLayer();
if (sqlLayer !== 0) {
  console.error('[run-tests] the SQL-layer check failed (scripts/check-sql-layer.mjs): all SQL goes into src/store/ repositories');
  process.exit(sqlLayer);
}
const duplicates = checkDuplicates();
if (duplicates !== 0) {
  console.error('[run-tests] the duplicate-code check failed (.jscpd.json): move the shared code into one module');
  process.exit(duplicates);
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
// test/e2e drives Chromium, Firefox and the recorder, test/recorder Chromium and ffmpeg: they stay on the machine's
// Node alone. So do the tests that mostly wait out outages of the servers beside us (test/storage, test/jobs,
// test/webhooks: minutes of retries and restarts, no Node-specific code the API tests do not also run): the
// second Node checks the server itself (API, store, SFU, native SQLite addon) within CI's time budget.
const ALSO_NODE_DIRS = ['/api/', '/domain/', '/store/', '/sfu/'];
const withoutBrowser = files.filter((p) => ALSO_NODE_DIRS.some((d) => p.includes(d)));
for (const spec of alsoNodes) {
  if (versionMatches(process.versions.node, spec) || withoutBrowser.length === 0) continue;
  console.error(`[run-tests] Node ${process.versions.node}: ${status === 0 ? 'passed' : `FAILED (exit ${status})`}; now the tests without browser under Node ${spec}`);
  const extra = underNode(spec, withoutBrowser);
  if (status === 0) status = extra;
}
process.exit(status);
