// A WebSocket client for signaling tests: collects every server message and the close code.
import WebSocket from 'ws';

export interface WsClient {
  ws: WebSocket;
  /** every message received, in order, parsed (or `{unparsed}` when the server sent something not JSON) */
  received: any[];
  /** the next message of `type` not yet taken (already received or to come) */
  next(type: string): Promise<any>;
  /** resolves with the close code */
  closed: Promise<number>;
  send(msg: unknown): void;
}

export async function wsClient(baseUrl: string): Promise<WsClient> {
  const ws = new WebSocket(`${baseUrl.replace('http', 'ws')}/ws`);
  const received: any[] = [];
  const taken = new Set<any>();
  const waiting: Array<{ type: string; resolve: (m: any) => void }> = [];
  ws.on('message', (d) => {
    let m: any;
    try {
      m = JSON.parse(d.toString());
    } catch {
      m = { unparsed: d.toString() };
    }
    received.push(m);
    const i = waiting.findIndex((w) => w.type === m.type);
    if (i >= 0) {
      taken.add(m);
      waiting.splice(i, 1)[0].resolve(m);
    }
  });
  // a server closing on a bad frame makes the client report an error too; the close code is what counts
  ws.on('error', () => undefined);
  const closed = new Promise<number>((r) => ws.on('close', (c) => r(c)));
  await new Promise((r, j) => ws.once('open', r).once('error', j));
  return {
    ws,
    received,
    closed,
    send: (msg) => ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg)),
    next(type) {
      const m = received.find((x) => x.type === type && !taken.has(x));
      if (m) {
        taken.add(m);
        return Promise.resolve(m);
      }
      return new Promise((resolve) => waiting.push({ type, resolve }));
    },
  };
}

/** Waits until everything sent before has been handled: a ping's pong comes after them (one queue per socket). */
export async function settled(c: WsClient): Promise<'pong' | 'closed'> {
  if (c.ws.readyState !== WebSocket.OPEN) return c.closed.then(() => 'closed');
  c.send({ type: 'ping' });
  return Promise.race([c.next('pong').then(() => 'pong' as const), c.closed.then(() => 'closed' as const)]);
}
