// WebSocket signaling at /ws on the HTTP server: JSON messages, checked against schemas, handled in order per
// socket. A ping every few seconds finds dead peers (network loss) within config.peerTimeoutSeconds.
// Abuse limits: frame size (1009), messages waiting per socket (1008), time to join, size of user_data.
//
// page → server: preview{token} · join{token, name, previous_peer_id?} · answer{sdp} · candidate{candidate} · ice-restart ·
//                publish{tracks:[{cid, kind, muted}]} · unpublish{track_id} · mute{track_id, muted} · leave
// server → page: preview{room, role} · joined{peer_id, session_id, room, role, peers, speaking, ice_servers} · offer{sdp, mids} ·
//                peer-joined{peer} · peer-left{peer_id} · track-added/-removed/-updated{peer_id, track_id, kind, …} ·
//                published{track_id, cid} · refused{cids} · speaking{peer_ids} · removed{reason, reconnect?} · error{code, message}
// A page whose socket dropped joins again with the same token, naming the peer it was (previous_peer_id): if
// that peer is still here (a network blip), the new one takes its place; after a restart it is a plain join.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import type { Logger } from '../logger.js';
import type { Sfu } from './index.js';
import { JoinError } from './joinError.js';
import type { Peer } from './peer.js';
import type { Room } from './room.js';

const Str = (max: number) => Type.String({ maxLength: max });
const TrackKindSchema = Type.Union([Type.Literal('camera'), Type.Literal('screen'), Type.Literal('audio')]);
const Auth = {
  token: Type.String({ minLength: 1, maxLength: 4096 }),
  room_id: Type.Optional(Str(64)),
  role: Type.Optional(Str(128)),
};

const ClientMessage = Type.Union([
  Type.Object({ type: Type.Literal('preview'), ...Auth }, { additionalProperties: false }),
  Type.Object(
    {
      type: Type.Literal('join'),
      ...Auth,
      name: Type.Optional(Str(100)),
      previous_peer_id: Type.Optional(Str(64)),
      user_data: Type.Optional(Type.Union([Str(2048), Type.Record(Type.String(), Type.Unknown())])),
    },
    { additionalProperties: false },
  ),
  Type.Object({ type: Type.Literal('answer'), sdp: Type.String({ minLength: 1, maxLength: 200_000 }) }, { additionalProperties: false }),
  Type.Object(
    {
      type: Type.Literal('candidate'),
      candidate: Type.Union([
        Type.Null(),
        Type.Object({
          candidate: Str(1024),
          sdpMid: Type.Optional(Type.Union([Str(32), Type.Null()])),
          sdpMLineIndex: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 1000 }), Type.Null()])),
          usernameFragment: Type.Optional(Type.Union([Str(256), Type.Null()])),
        }),
      ]),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal('publish'),
      tracks: Type.Array(Type.Object({ cid: Type.String({ minLength: 1, maxLength: 128 }), kind: TrackKindSchema, muted: Type.Optional(Type.Boolean()) }, { additionalProperties: false }), {
        minItems: 1,
        maxItems: 3,
      }),
    },
    { additionalProperties: false },
  ),
  Type.Object({ type: Type.Literal('unpublish'), track_id: Str(64) }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('mute'), track_id: Str(64), muted: Type.Boolean() }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('leave') }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('ice-restart') }, { additionalProperties: false }),
  // how wide the page shows a track it receives, in device pixels (its simulcast layer follows)
  Type.Object({ type: Type.Literal('video-size'), track_id: Str(64), width: Type.Integer({ minimum: 0, maximum: 16384 }) }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('ping') }, { additionalProperties: false }),
]);
type ClientMessage = Static<typeof ClientMessage>;
const checkMessage = Compile(ClientMessage);

/** a socket that has not joined within this time is closed… */
const JOIN_DEADLINE_MS = 10_000;
/** …unless it previewed: then the page shows its preview screen (name, devices) and joins when the user is ready */
const PREVIEW_DEADLINE_MS = 5 * 60_000;
/** messages received but not yet handled, per socket: a client sending faster than they are handled is closed */
const MAX_PENDING_MESSAGES = 64;
/** bytes waiting to be sent to a socket that does not read them: past this it is dropped */
const MAX_SEND_BUFFER = 4 * 1024 * 1024;
/** largest frame (an answer SDP is at most 200 000 characters) */
const MAX_FRAME_BYTES = 256 * 1024;
/** largest user_data, serialized (a string or a JSON object) */
export const MAX_USER_DATA_BYTES = 2048;

interface Connection {
  ws: WebSocket;
  peer: Peer | null;
  room: Room | null;
  lastSeen: number;
  joining: boolean;
  closed: boolean;
  queue: Promise<void>;
  /** messages in `queue` not yet handled */
  pending: number;
  openedAt: number;
  previewed: boolean;
  /** the page said leave: a close that overtakes the queued message still leaves as "client request" */
  leaving: boolean;
}

export class Signaling {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  private readonly connections = new Set<Connection>();
  private readonly byPeer = new Map<string, Connection>();
  private heartbeat: NodeJS.Timeout | null = null;
  private server: Server | null = null;
  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head);

  constructor(
    private readonly sfu: Sfu,
    private readonly log: Logger,
    private readonly timeoutSeconds: number,
  ) {}

  attach(server: Server): void {
    this.server = server;
    server.on('upgrade', this.onUpgrade);
    const timeoutMs = Math.max(1, this.timeoutSeconds) * 1000;
    // ping often enough that two or three are missed before the timeout
    this.heartbeat = setInterval(() => this.beat(timeoutMs), Math.max(500, Math.floor(timeoutMs / 3)));
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/ws') {
      // nobody else takes upgrades on this server
      if (this.server && this.server.listenerCount('upgrade') === 1) socket.destroy();
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  private accept(ws: WebSocket): void {
    const conn: Connection = { ws, peer: null, room: null, lastSeen: Date.now(), joining: false, closed: false, queue: Promise.resolve(), pending: 0, openedAt: Date.now(), previewed: false, leaving: false };
    this.connections.add(conn);
    ws.on('pong', () => {
      conn.lastSeen = Date.now();
    });
    ws.on('message', (data, isBinary) => {
      conn.lastSeen = Date.now();
      if (isBinary) return this.fail(conn, 400, 'binary messages are not supported');
      let msg: unknown;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        return this.fail(conn, 400, 'message is not JSON');
      }
      if (!checkMessage.Check(msg)) {
        const first = checkMessage.Errors(msg)[0];
        return this.send(conn, { type: 'error', code: 400, message: 'invalid message', details: first ? [`${first.instancePath || '/'} ${first.message}`] : [] });
      }
      if (msg.type === 'join' && userDataBytes(msg.user_data) > MAX_USER_DATA_BYTES) {
        return this.send(conn, { type: 'error', code: 400, message: 'invalid message', details: [`/user_data must be at most ${MAX_USER_DATA_BYTES} bytes serialized`] });
      }
      if (conn.pending >= MAX_PENDING_MESSAGES) {
        conn.closed = true;
        return conn.ws.close(1008, 'too many messages');
      }
      if (msg.type === 'leave') conn.leaving = true;
      conn.pending++;
      // one message at a time per socket: an answer is applied before the candidates that follow it
      conn.queue = conn.queue
        .then(() => this.handle(conn, msg))
        .catch((err: unknown) => {
          this.log.error({ err }, 'signaling message failed');
          this.send(conn, { type: 'error', code: 500, message: 'internal error' });
        })
        .finally(() => {
          conn.pending--;
        });
    });
    ws.on('close', () => {
      conn.closed = true;
      this.connections.delete(conn);
      if (conn.peer) {
        this.byPeer.delete(conn.peer.id);
        void this.sfu.leave(conn.peer, conn.leaving ? 'client request' : 'websocket closed');
      }
    });
    ws.on('error', (err) => this.log.debug({ err }, 'websocket error'));
  }

  private send(conn: Connection, msg: Record<string, unknown>): void {
    if (conn.ws.readyState !== conn.ws.OPEN) return;
    // a client that does not read what it is sent is not allowed to grow our memory
    if (conn.ws.bufferedAmount > MAX_SEND_BUFFER) return void conn.ws.terminate();
    conn.ws.send(JSON.stringify(msg));
  }

  private fail(conn: Connection, code: number, message: string): void {
    this.send(conn, { type: 'error', code, message });
  }

  private async handle(conn: Connection, msg: ClientMessage): Promise<void> {
    if (conn.closed || conn.ws.readyState !== conn.ws.OPEN) return;
    const peer = conn.peer;
    switch (msg.type) {
      case 'ping':
        return this.send(conn, { type: 'pong' });
      case 'preview':
        try {
          const c = await this.sfu.check({ token: msg.token, expectRoomId: msg.room_id, expectRole: msg.role });
          conn.previewed = true;
          return this.send(conn, { type: 'preview', room: { id: c.roomId, name: c.roomName }, role: roleView(c.roleName, c.identity.role) });
        } catch (err) {
          return this.refuse(conn, err, false);
        }
      case 'join': {
        if (peer || conn.joining) return this.fail(conn, 409, 'already joined');
        conn.joining = true;
        try {
          const { peer: joined, room } = await this.sfu.join(
            { token: msg.token, expectRoomId: msg.room_id, expectRole: msg.role, name: msg.name, userData: msg.user_data, previousPeerId: msg.previous_peer_id },
            (m) => this.send(conn, m),
          );
          conn.peer = joined;
          conn.room = room;
          this.byPeer.set(joined.id, conn);
          if (conn.closed) {
            this.byPeer.delete(joined.id);
            await this.sfu.leave(joined, 'websocket closed');
            return;
          }
          joined.open({
            type: 'joined',
            peer_id: joined.id,
            session_id: joined.session?.sessionId ?? this.sfu.activeSession(room.id)?.id ?? null,
            room: { id: room.id, name: room.name },
            role: roleView(joined.info.roleName, joined.info.role),
            name: joined.info.name,
            peers: room.snapshotFor(joined),
            speaking: room.speakers,
            // for the page's RTCPeerConnection: TURN relays with this peer's own short-lived credentials
            ice_servers: joined.iceServers,
          });
        } catch (err) {
          return this.refuse(conn, err, true);
        } finally {
          conn.joining = false;
        }
        return;
      }
    }
    // (a peer leaving for another cause, its transport say, is closed before its socket is)
    if (!peer || peer.closed || !conn.room) return this.fail(conn, 409, 'join first');
    const room = conn.room;
    switch (msg.type) {
      case 'answer':
        return peer.handleAnswer(msg.sdp);
      case 'candidate':
        if (msg.candidate) await peer.addCandidate(msg.candidate);
        return;
      case 'ice-restart':
        // the page lost its media path (a network change): a new offer with fresh ICE credentials
        await peer.restartIce();
        return;
      case 'publish': {
        const refused = room.publish(peer, msg.tracks);
        if (refused.length > 0) this.send(conn, { type: 'refused', cids: refused, message: 'role may not publish this kind, or it is already published' });
        return;
      }
      case 'unpublish':
        return room.unpublish(peer, msg.track_id);
      case 'mute':
        return room.setMuted(peer, msg.track_id, msg.muted);
      case 'video-size':
        return room.setVideoSize(peer, msg.track_id, msg.width);
      case 'leave':
        return this.sfu.leave(peer, 'client request');
    }
  }

  private refuse(conn: Connection, err: unknown, close: boolean): void {
    if (!(err instanceof JoinError)) throw err;
    this.send(conn, { type: 'error', code: err.code, message: err.message });
    // 4000 + HTTP-like code: the page can tell "refused" from a dropped connection
    if (close) conn.ws.close(4000 + err.code, err.message.slice(0, 100));
  }

  /** Closes a departed peer's socket (after a leave decided elsewhere). */
  disconnect(peer: Peer, reason: string): void {
    const conn = this.byPeer.get(peer.id);
    if (!conn) return;
    this.byPeer.delete(peer.id);
    conn.peer = null;
    if (conn.closed) return;
    // messages still queued on this socket (a join after a leave) are not handled any more
    conn.closed = true;
    conn.ws.close(1000, reason.slice(0, 100));
  }

  private beat(timeoutMs: number): void {
    const now = Date.now();
    for (const conn of this.connections) {
      if (!conn.peer && !conn.joining && now - conn.openedAt > (conn.previewed ? PREVIEW_DEADLINE_MS : JOIN_DEADLINE_MS)) {
        conn.closed = true;
        conn.ws.close(1008, 'not joined in time');
        continue;
      }
      if (now - conn.lastSeen > timeoutMs) {
        // no pong, no message: the page is gone without closing (network loss, frozen tab)
        const peer = conn.peer;
        conn.peer = null;
        conn.ws.terminate();
        if (peer) {
          this.byPeer.delete(peer.id);
          void this.sfu.leave(peer, 'server removed peer', 'no heartbeat');
        }
        continue;
      }
      if (conn.ws.readyState === conn.ws.OPEN) conn.ws.ping();
    }
  }

  close(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.server?.off('upgrade', this.onUpgrade);
    for (const conn of this.connections) conn.ws.terminate();
    this.connections.clear();
    this.wss.close();
  }
}

function userDataBytes(v: unknown): number {
  if (v === undefined || v === null) return 0;
  return Buffer.byteLength(typeof v === 'string' ? v : JSON.stringify(v));
}

function roleView(name: string, role: import('../model/templates.js').Role) {
  const kinds: string[] = [];
  const allowed = role.publishParams.allowed;
  if (allowed.includes('audio')) kinds.push('audio');
  if (allowed.includes('video')) kinds.push('camera');
  if (allowed.includes('screen')) kinds.push('screen');
  return {
    name,
    publish: kinds,
    subscribe_to_roles: role.subscribeParams.subscribeToRoles,
    video: role.publishParams.video ?? null,
    screen: role.publishParams.screen ?? null,
  };
}
