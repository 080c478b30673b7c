// A real HTTP webhook receiver on 127.0.0.1 for tests: records what it accepted, can answer 500, can close its
// port and open it again on the same port.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  raw: string;
  body: any;
}

export class WebhookReceiver {
  /** requests answered 200, in arrival order */
  readonly accepted: Received[] = [];
  /** every request, whatever the answer */
  hits = 0;
  /** answer 500 to everything while true; paths listed here always get 500 */
  failing = false;
  readonly failPaths = new Set<string>();
  private server: http.Server | null = null;
  port = 0;

  async listen(port = 0): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.hits++;
        const path = req.url ?? '/';
        if (this.failing || this.failPaths.has(path)) {
          res.writeHead(500).end('down');
          return;
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        let body: any = null;
        try {
          body = JSON.parse(raw);
        } catch {
          /* recorded raw */
        }
        this.accepted.push({ path, headers: req.headers, raw, body });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Stops listening (connections refused) but keeps what was received; listen(port) reopens. */
  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  ids(filter: (r: Received) => boolean = () => true): string[] {
    return this.accepted.filter(filter).map((r) => r.body?.id);
  }
}

export async function waitFor<T>(what: string, fn: () => Promise<T | false | null | undefined> | T | false | null | undefined, timeoutMs = 60_000, everyMs = 200): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
