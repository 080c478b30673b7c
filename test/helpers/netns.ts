// Network conditions for media tests, made of the kernel's own parts (root only): a peer's network namespace
// joined to this machine by a veth pair (this side 10.201.<n>.1, the peer 10.201.<n>.2, its default route
// through us; IPv6 fd00:201:<n>::1 and ::2 when asked), nftables rules inside it or on this side, and coturn started on this side. Everything made is
// removed by destroy()/stop(), also when the test failed.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import type { Page } from 'playwright-core';
import { CHROMIUM_PATH, launchPeerBrowser, openPeerPage, rtpStats, until, waitJoined, type MediaFixtures } from './meetingPeers.js';
import type { TestServer } from './server.js';

function run(cmd: string, args: string[], input?: string): void {
  execFileSync(cmd, args, { input, stdio: ['pipe', 'ignore', 'pipe'] });
}

export class PeerNamespace {
  readonly hostIp: string;
  readonly peerIp: string;
  /** this side's end of the veth pair (for nft rules matching traffic from the peer) */
  readonly hostIf: string;
  private readonly tables: string[] = [];
  private readonly dir = mkdtempSync(join(tmpdir(), 'roomcast-netns-'));

  private constructor(
    readonly name: string,
    private readonly n: number,
  ) {
    this.hostIp = `10.201.${n}.1`;
    this.peerIp = `10.201.${n}.2`;
    this.hostIf = `rcv${n}h`;
  }

  /** A namespace `rc-<name>` on subnet 10.201.<n>.0/24 (n: 1–250, one per namespace alive at once). */
  static create(name: string, n: number): PeerNamespace {
    const ns = new PeerNamespace(`rc-${name}`, n);
    const peerIf = `rcv${n}p`;
    // left over by a run that was killed: start clean
    ns.removeKernelObjects();
    run('ip', ['netns', 'add', ns.name]);
    run('ip', ['link', 'add', ns.hostIf, 'type', 'veth', 'peer', 'name', peerIf]);
    run('ip', ['link', 'set', peerIf, 'netns', ns.name]);
    run('ip', ['addr', 'add', `${ns.hostIp}/24`, 'dev', ns.hostIf]);
    run('ip', ['link', 'set', ns.hostIf, 'up']);
    ns.exec('ip', ['addr', 'add', `${ns.peerIp}/24`, 'dev', peerIf]);
    ns.exec('ip', ['link', 'set', peerIf, 'up']);
    ns.exec('ip', ['link', 'set', 'lo', 'up']);
    ns.exec('ip', ['route', 'add', 'default', 'via', ns.hostIp]);
    return ns;
  }

  /** IPv6 on the link too: this side fd00:201:<n>::1, the peer ::2 (its default route through us). */
  addIpv6(): { hostIp6: string; peerIp6: string } {
    const prefix = `fd00:201:${this.n}::`;
    const peerIf = `rcv${this.n}p`;
    // nodad: usable at once, not after duplicate address detection
    run('ip', ['-6', 'addr', 'add', `${prefix}1/64`, 'dev', this.hostIf, 'nodad']);
    this.exec('ip', ['-6', 'addr', 'add', `${prefix}2/64`, 'dev', peerIf, 'nodad']);
    this.exec('ip', ['-6', 'route', 'add', 'default', 'via', `${prefix}1`]);
    return { hostIp6: `${prefix}1`, peerIp6: `${prefix}2` };
  }

  exec(cmd: string, args: string[], input?: string): void {
    run('ip', ['netns', 'exec', this.name, cmd, ...args], input);
  }

  /** nft rules inside the peer's namespace (a ruleset text: `table inet t { … }`). */
  nftInside(ruleset: string): void {
    this.exec('nft', ['-f', '-'], ruleset);
  }

  /** nft rules on this machine's side; the table (`family name`) goes with destroy(). */
  nftHost(table: string, body: string): void {
    run('nft', ['-f', '-'], `table ${table} {\n${body}\n}\n`);
    this.tables.push(table);
  }

  /** A Chromium executable that runs inside the namespace (for playwright's executablePath). */
  chromiumPath(): string {
    const file = join(this.dir, 'chromium');
    writeFileSync(file, `#!/bin/sh\nexec ip netns exec ${this.name} ${CHROMIUM_PATH} "$@"\n`);
    chmodSync(file, 0o755);
    return file;
  }

  destroy(): void {
    this.removeKernelObjects();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private removeKernelObjects(): void {
    for (const t of this.tables.splice(0)) {
      try {
        run('nft', ['delete', 'table', ...t.split(' ')]);
      } catch {
        /* already gone */
      }
    }
    try {
      // the veth pair goes with the namespace
      run('ip', ['netns', 'delete', this.name]);
    } catch {
      /* not there */
    }
    try {
      run('ip', ['link', 'delete', this.hostIf]);
    } catch {
      /* gone with it */
    }
  }
}

export interface Coturn {
  url: string;
  stop(): Promise<void>;
}

/** coturn (Debian's turnserver) on `ip:port`, TCP and UDP, shared-secret credentials (TURN_SECRET). */
export async function startCoturn(opts: { ip: string; port: number; secret: string }): Promise<Coturn> {
  const child: ChildProcess = spawn('turnserver', [
    '-n', // no config file
    `--listening-ip=${opts.ip}`,
    `--listening-port=${opts.port}`,
    `--relay-ip=${opts.ip}`,
    '--min-port=49160',
    '--max-port=49260',
    '--use-auth-secret',
    `--static-auth-secret=${opts.secret}`,
    '--realm=roomcast.test',
    '--no-tls',
    '--no-dtls',
    '--no-cli',
    '--fingerprint',
    '--log-file=stdout',
    '--simple-log',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
  child.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
  };
  // ready when its TCP listener answers
  for (let i = 0; ; i++) {
    const ok = await new Promise<boolean>((r) => {
      const c = createConnection({ host: opts.ip, port: opts.port }, () => (c.destroy(), r(true)));
      c.on('error', () => r(false));
    });
    if (ok) break;
    if (i > 50 || child.exitCode !== null) {
      await stop();
      throw new Error(`coturn did not start: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url: `turn:${opts.ip}:${opts.port}?transport=tcp`, stop };
}

/**
 * Two pages in one room, one of them in Chromium inside `ns` (reaching the server at its address on the
 * link), the other on this machine; once both decode the other's video. Their browsers' close goes to `cleanups`.
 */
export async function namespacedPair(s: TestServer, ns: PeerNamespace, room: string, media: MediaFixtures, cleanups: Array<() => Promise<void> | void>): Promise<{ inside: Page; outside: Page }> {
  const port = new URL(s.url).port;
  const insideBase = `http://${ns.hostIp}:${port}`;
  const inside = await launchPeerBrowser(media, { executablePath: ns.chromiumPath(), args: [`--unsafely-treat-insecure-origin-as-secure=${insideBase}`] });
  cleanups.push(() => inside.close());
  const outside = await launchPeerBrowser(media);
  cleanups.push(() => outside.close());
  const pages = {
    inside: await openPeerPage(inside, `${insideBase}/preview/${room}/host?auth_token=${await s.appToken(room, 'host', 'inside')}&skip_preview_headful=true&name=Inside`),
    outside: await openPeerPage(outside, `http://127.0.0.1:${port}/preview/${room}/host?auth_token=${await s.appToken(room, 'host', 'outside')}&skip_preview_headful=true&name=Outside`),
  };
  await Promise.all([waitJoined(pages.inside), waitJoined(pages.outside)]);
  for (const [name, page] of Object.entries(pages)) {
    await until(`${name} decodes the other's video`, async () => (await rtpStats(page)).videoFramesDecoded > 30, 60_000, 500);
  }
  return pages;
}

/** nft ruleset for inside a namespace: a random `percent` of UDP packets dropped both ways (no netem here). */
export function randomLossRuleset(percent: number): string {
  return `table inet roomcast_loss {
 chain in {
  type filter hook input priority 0; policy accept;
  meta l4proto udp numgen random mod 100 < ${percent} drop
 }
 chain out {
  type filter hook output priority 0; policy accept;
  meta l4proto udp numgen random mod 100 < ${percent} drop
 }
}
`;
}
