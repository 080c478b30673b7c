// The nodes of a fleet (`roomcast start` with REDIS_URL) and where each room lives. Every node reports its
// PUBLIC_URL and load to Redis every few seconds (a key that expires when it stops: a dead node drops out);
// a room is placed on the least-loaded node that is not draining at its first join, and its lease is
// renewed by that node while peers are in it, so the room stays there for the session. A room whose node died
// (or that emptied and whose lease ran out) is placed again at the next join.
import { Redis, type RedisOptions } from 'ioredis';

const NODE_PREFIX = 'roomcast:node:';
const ROOM_PREFIX = 'roomcast:room:';
/** a node reports this often; its report lives 3 periods */
export const NODE_REPORT_MS = 3000;
const NODE_TTL_MS = 3 * NODE_REPORT_MS;
/** a room's lease: renewed each report while it has peers, so it outlives a short empty spell */
const ROOM_LEASE_MS = 20_000;

/** What a node says of itself. */
export interface NodeReport {
  id: string;
  /** where its meeting pages and rooms are (its PUBLIC_URL) */
  url: string;
  rooms: number;
  peers: number;
  /** SIGTERM: it keeps its rooms until they empty but takes no new ones */
  draining: boolean;
  at: string;
}

/** What the registry needs of this node's SFU. */
export interface HostedRooms {
  load(): { rooms: number; peers: number };
  /** rooms with at least one peer here */
  hostedRooms(): string[];
}

export class NodeRegistry {
  private readonly redis: Redis;
  private timer: NodeJS.Timeout | null = null;
  private draining = false;

  /** `self` and `sfu` of a node (`roomcast start`); a recorder machine only reads and places (start() is not called) */
  constructor(
    connection: RedisOptions,
    readonly self: { id: string; url: () => string },
    private readonly sfu: HostedRooms,
  ) {
    this.redis = new Redis({ ...connection, lazyConnect: true, maxRetriesPerRequest: 1 });
    // ioredis reconnects by itself; placements fail meanwhile (the page is served here, as without a fleet)
    this.redis.on('error', () => undefined);
  }

  start(): void {
    const beat = () => void this.report().catch(() => undefined);
    beat();
    this.timer = setInterval(beat, NODE_REPORT_MS);
    this.timer.unref();
  }

  /** No new rooms here from now on; those here stay until they empty. */
  async drain(): Promise<void> {
    this.draining = true;
    await this.report().catch(() => undefined);
  }

  /** This node's report, and the leases of the rooms it hosts renewed. */
  async report(): Promise<void> {
    const { rooms, peers } = this.sfu.load();
    const r: NodeReport = { id: this.self.id, url: this.self.url(), rooms, peers, draining: this.draining, at: new Date().toISOString() };
    const m = this.redis.multi().set(`${NODE_PREFIX}${r.id}`, JSON.stringify(r), 'PX', NODE_TTL_MS);
    for (const roomId of this.sfu.hostedRooms()) m.set(`${ROOM_PREFIX}${roomId}`, r.id, 'PX', ROOM_LEASE_MS);
    await m.exec();
  }

  /** The nodes that reported within their ttl. */
  async nodes(): Promise<NodeReport[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', `${NODE_PREFIX}*`, 'COUNT', 100);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    if (keys.length === 0) return [];
    const values = await this.redis.mget(...keys);
    return values.filter((v): v is string => !!v).map((v) => JSON.parse(v) as NodeReport).sort((a, b) => a.id.localeCompare(b.id));
  }

  /** The live node holding the room's lease, or null (the room is on no node now); places nothing. */
  async roomNode(roomId: string): Promise<NodeReport | null> {
    const holder = await this.redis.get(`${ROOM_PREFIX}${roomId}`);
    if (!holder) return null;
    return (await this.nodes()).find((n) => n.id === holder) ?? null;
  }

  /**
   * The node a room lives on: the one holding its lease while that node is alive, else the least-loaded node
   * that is not draining (fewest peers, then rooms), which takes the lease; the first of two racing nodes wins.
   * Null when no node is known (Redis unreachable): the caller serves the room itself.
   */
  async placeRoom(roomId: string): Promise<NodeReport | null> {
    const nodes = await this.nodes();
    const key = `${ROOM_PREFIX}${roomId}`;
    const holder = await this.redis.get(key);
    const alive = nodes.find((n) => n.id === holder);
    if (alive) return alive;
    const open = nodes.filter((n) => !n.draining);
    const pick = open.sort((a, b) => a.peers - b.peers || a.rooms - b.rooms || a.id.localeCompare(b.id))[0];
    if (!pick) return null;
    // a dead holder's lease is replaced only if it is still that holder's (another node may have placed it meanwhile)
    const placed = holder === null ? await this.redis.set(key, pick.id, 'PX', ROOM_LEASE_MS, 'NX') : await this.replaceLease(key, holder, pick.id);
    if (placed === 'OK') return pick;
    const winner = await this.redis.get(key);
    return nodes.find((n) => n.id === winner) ?? pick;
  }

  private async replaceLease(key: string, from: string, to: string): Promise<'OK' | null> {
    const script = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3]) else return nil end";
    const res = await this.redis.eval(script, 1, key, from, to, String(ROOM_LEASE_MS));
    return res === 'OK' ? 'OK' : null;
  }

  /** Lets go of Redis without leaving the fleet (a reader: `roomcast status`, a recorder machine). */
  disconnect(): void {
    this.redis.disconnect();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    // a node that stops leaves the fleet at once rather than after its ttl
    await this.redis.del(`${NODE_PREFIX}${this.self.id}`).catch(() => undefined);
    this.redis.disconnect();
  }
}
