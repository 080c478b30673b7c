// The SFU inside the server process: active rooms, joining with an app token, leaving for any reason.
// Other code uses `activePeers`, `activeSession` and the event log (session.*, peer.*).
import type { Server } from 'node:http';
import { createHash, randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import type { Db } from '../store/db.js';
import type { EventLog } from '../domain/events.js';
import type { Logger } from '../logger.js';
import { TokenError, verifyToken } from '../auth/tokens.js';
import { iceServersFor } from './iceConfig.js';
import { getRoomRow } from '../store/rooms.js';
import { getTemplate } from '../store/templates.js';
import { hiddenPeerRole, recorderJoinDecision } from '../domain/recorderAccess.js';
import { SessionTracker, userDataText, type LeaveReason } from '../domain/sessions.js';
import { rfc3339 } from '../clock.js';
import { Room } from './room.js';
import { Peer, type PeerIdentity, type PeerTransport } from './peer.js';
import { Signaling } from './signaling.js';
import { JoinError } from './joinError.js';

export { JoinError };

export interface ActivePeer {
  id: string;
  name: string;
  role: string;
  user_id: string;
  joined_at: string;
  hidden: boolean;
}

/** A join refused: `code` is HTTP-like (401 bad token, 403 not allowed or full, 404 no such room). */
/** What the SFU carries now, and its loss recovery since it started (counters). */
export interface SfuLoad {
  rooms: number;
  peers: number;
  forwardedStreams: number;
  /** packets sent again because a subscriber's NACK asked */
  retransmittedPackets: number;
  /** NACKs sent to publishers for video packets lost on their way in */
  nacksSent: number;
}

export interface JoinCheck {
  roomId: string;
  roomName: string;
  templateId: string;
  roleName: string;
  /** the room's `size`: most visible peers at once, 0 = no limit */
  roomSize: number;
  /** the room's max_duration_seconds: caps its sessions */
  roomMaxSeconds: number;
  identity: Omit<PeerIdentity, 'id' | 'name' | 'userData' | 'joinedAt' | 'tokenDigest'>;
  /** the token's expiry (unix seconds): TURN credentials live as long */
  tokenExp?: number;
}

export interface JoinRequest {
  token: string;
  /** the room/role the page's URL names (/preview/:room_id/:role): the token must match */
  expectRoomId?: string;
  expectRole?: string;
  name?: string;
  userData?: unknown;
  /** the peer this page was before its connection dropped: if still here, the new peer takes its place */
  previousPeerId?: string;
}

/** What the SFU is built with (server.ts). */
export interface SfuDeps {
  config: Config;
  db: Db;
  events: EventLog;
  log: Logger;
}

export class Sfu {
  readonly rooms = new Map<string, Room>();
  readonly sessions: SessionTracker;
  private signaling: Signaling | null = null;
  private closing = false;
  /** peers whose leave is being recorded, so a second cause (socket close after leave) is ignored */
  private readonly leaving = new Set<string>();
  /** loss recovery of the peers that left (those present are read at load()) */
  private readonly recoveredByGone = { retransmitted: 0, nacksSent: 0 };

  constructor(private readonly deps: SfuDeps) {
    this.sessions = new SessionTracker(deps.db, deps.events, deps.config.sessionMaxSeconds);
    this.sessions.onLimit = (roomId, sessionId) => void this.endSession(roomId, sessionId, 'session max duration reached');
  }

  /** Closes sessions a previous process left open, then accepts WebSocket upgrades on `/ws`. */
  async start(server: Server): Promise<void> {
    const graceSeconds = this.deps.config.sessionResumeSeconds;
    const left = await this.sessions.resumeStale(graceSeconds * 1000);
    if (left > 0) this.deps.log.info({ sessions: left, graceSeconds }, 'sessions left open by a previous run: resumed while their peers join again');
    this.signaling = new Signaling(this, this.deps.log, this.deps.config.peerTimeoutSeconds);
    this.signaling.attach(server);
  }

  /**
   * Checks an app token for joining: signature, expiry, room exists and is enabled, role in its template.
   * The one place a token's claims are verified, for preview and join alike.
   */
  async check(req: Pick<JoinRequest, 'token' | 'expectRoomId' | 'expectRole'>): Promise<JoinCheck> {
    let token;
    try {
      token = await verifyToken({ accessKey: this.deps.config.accessKey, appSecret: this.deps.config.appSecret }, req.token);
    } catch (err) {
      if (err instanceof TokenError) throw new JoinError(401, err.detail);
      throw err;
    }
    if (token.type !== 'app' || !token.room_id || !token.role) throw new JoinError(403, 'only app tokens can join a room');
    if (req.expectRoomId !== undefined && req.expectRoomId !== token.room_id) throw new JoinError(403, 'token is for another room');
    if (req.expectRole !== undefined && req.expectRole !== token.role) throw new JoinError(403, 'token is for another role');
    const room = await getRoomRow(this.deps.db, token.room_id);
    if (!room) throw new JoinError(404, 'room not found');
    if (Number(room.enabled) !== 1) throw new JoinError(403, 'room is disabled');
    const template = await getTemplate(this.deps.db, room.template_id);
    const role = template?.roles[token.role];
    if (!role) throw new JoinError(403, `role ${token.role} is not in the room's template`);
    const access = await recorderJoinDecision(this.deps.db, token);
    if (access.refused !== undefined) throw new JoinError(403, access.refused);
    return {
      roomId: room.id,
      roomName: room.name,
      templateId: room.template_id,
      roleName: token.role,
      roomSize: room.size,
      roomMaxSeconds: room.max_duration_seconds,
      identity: { userId: token.user_id ?? '', roleName: token.role, role: access.hidden ? hiddenPeerRole(role) : role, hidden: access.hidden },
      tokenExp: token.exp,
    };
  }

  /** Joins a checked peer: session bookkeeping, then the room announces it. */
  async join(req: JoinRequest, send: (msg: Record<string, unknown>) => void): Promise<{ peer: Peer; room: Room }> {
    if (this.closing) throw new JoinError(503, 'server is shutting down');
    const c = await this.check(req);
    const role = c.identity.role;
    const identity: PeerIdentity = {
      ...c.identity,
      id: randomUUID(),
      name: (req.name ?? '').trim() || c.identity.userId || c.roleName,
      userData: userDataText(req.userData),
      joinedAt: rfc3339(),
      tokenDigest: createHash('sha256').update(req.token).digest('hex'),
    };
    // From the limit checks to room.add there is no await without this peer's reservation in room.joining:
    // two joins racing for the last place cannot both pass.
    let room = this.rooms.get(c.roomId);
    const replaced = this.replaceable(room, req.previousPeerId, identity.tokenDigest);
    const present = room?.occupancy(c.roleName, replaced) ?? { role: 0, visible: 0 };
    const full = role.maxPeerCount < 0 || (role.maxPeerCount > 0 && present.role >= role.maxPeerCount);
    if (!identity.hidden && full) throw new JoinError(403, `role ${c.roleName} is full`);
    if (!identity.hidden && c.roomSize > 0 && present.visible >= c.roomSize) throw new JoinError(403, 'room is full');
    if (!room) {
      room = new Room(c.roomId, c.roomName, c.templateId, this.deps.log);
      room.onPeerLost = (peer, state) => void this.leave(peer, state === 'closed' || state === 'failed' || state === 'disconnected' ? 'ice connection state closed' : 'server removed peer', `transport ${state}`);
      this.rooms.set(c.roomId, room);
    }
    const hints = {
      camera: role.publishParams.video?.bitRate ?? 1500,
      screen: role.publishParams.screen?.bitRate ?? 2000,
    };
    const { rtc } = this.deps.config;
    const transport: PeerTransport = {
      timeoutMs: this.deps.config.peerTimeoutSeconds * 1000,
      announcedIp: rtc.announcedIp,
      portRange: rtc.portRange,
      iceServers: iceServersFor(rtc.turn, identity.userId || identity.id, c.tokenExp),
      iceTcp: rtc.iceTcp,
      simulcast: rtc.simulcast,
    };
    const peer = new Peer(identity, send, room, hints, this.deps.log.child({ peerId: identity.id, roomId: c.roomId }), transport);
    // The room object exists before the first await so concurrent joins share it; it is dropped if left empty.
    room.joining.add(peer);
    try {
      if (!identity.hidden) {
        peer.session = await this.sessions.join({
          peerId: identity.id,
          roomId: c.roomId,
          roomName: c.roomName,
          templateId: c.templateId,
          userId: identity.userId,
          name: identity.name,
          userData: identity.userData,
          role: c.roleName,
          maxDurationSeconds: c.roomMaxSeconds,
          previousPeerId: req.previousPeerId,
        });
        identity.joinedAt = peer.session.joinedAt;
      }
      // after the new peer's session join (a session it kept alone stays open), before it enters (it must not
      // receive its own old tracks); meanwhile this peer's reservation keeps the room
      if (replaced) await this.leave(replaced, 'websocket closed', 'replaced by a new connection');
    } finally {
      room.joining.delete(peer);
      // a failed session write leaves no peer behind
      if (!identity.hidden && !peer.session) this.dropIfEmpty(room);
    }
    if (this.closing) {
      if (peer.session) await this.sessions.leave(peer.session, 'server removed peer', 'server shutting down');
      this.dropIfEmpty(room);
      throw new JoinError(503, 'server is shutting down');
    }
    room.joining.delete(peer);
    room.add(peer);
    this.deps.log.info({ peerId: peer.id, roomId: c.roomId, role: c.roleName, hidden: identity.hidden }, 'peer joined');
    return { peer, room };
  }

  /**
   * The peer a re-joining page was, if it is still here (its old connection not yet timed out) and was joined
   * with the same token: a peer id alone (other pages see it) takes no one's place.
   */
  private replaceable(room: Room | undefined, previousPeerId: string | undefined, tokenDigest: string): Peer | undefined {
    const old = previousPeerId ? room?.peers.get(previousPeerId) : undefined;
    return old && !old.closed && old.info.tokenDigest === tokenDigest ? old : undefined;
  }

  /** Removes a peer for `reason`; the first cause wins, later ones (its socket closing after a leave) do nothing. */
  async leave(peer: Peer, reason: LeaveReason, message = ''): Promise<void> {
    if (this.leaving.has(peer.id) || peer.closed) return;
    this.leaving.add(peer.id);
    try {
      const room = [...this.rooms.values()].find((r) => r.peers.get(peer.id) === peer);
      if (room) {
        await room.remove(peer);
        this.dropIfEmpty(room);
      } else {
        await peer.close();
      }
      this.signaling?.disconnect(peer, reason);
      const r = peer.lossRecovery();
      this.recoveredByGone.retransmitted += r.retransmitted;
      this.recoveredByGone.nacksSent += r.nacksSent;
      if (peer.session) await this.sessions.leave(peer.session, reason, message);
      this.deps.log.info({ peerId: peer.id, roomId: room?.id, reason }, 'peer left');
    } catch (err) {
      this.deps.log.error({ err, peerId: peer.id }, 'peer leave failed');
    } finally {
      this.leaving.delete(peer.id);
    }
  }

  private dropIfEmpty(room: Room): void {
    if (room.peers.size === 0 && room.joining.size === 0 && this.rooms.get(room.id) === room) {
      room.close();
      this.rooms.delete(room.id);
    }
  }

  /** Peers in the room now; the hidden recorder only when asked for. */
  activePeers(roomId: string, opts: { includeHidden?: boolean } = {}): ActivePeer[] {
    const room = this.rooms.get(roomId);
    if (!room) return [];
    return [...room.peers.values()]
      .filter((p) => !p.closed && (opts.includeHidden || !p.info.hidden))
      .map((p) => ({ id: p.id, name: p.info.name, role: p.info.roleName, user_id: p.info.userId, joined_at: p.info.joinedAt, hidden: p.info.hidden }));
  }

  /** What this node carries now (/metrics): rooms, peers in them (the recorder too), tracks forwarded to subscribers. */
  /** Rooms with at least one peer here (a fleet node renews their leases: fleet/nodeRegistry.ts). */
  hostedRooms(): string[] {
    return [...this.rooms.entries()].filter(([, room]) => [...room.peers.values()].some((p) => !p.closed)).map(([id]) => id);
  }

  load(): SfuLoad {
    let peers = 0;
    let forwardedStreams = 0;
    const recovery = { ...this.recoveredByGone };
    for (const room of this.rooms.values()) {
      for (const p of room.peers.values()) {
        if (p.closed) continue;
        peers++;
        forwardedStreams += p.subscriptions.size;
        const r = p.lossRecovery();
        recovery.retransmitted += r.retransmitted;
        recovery.nacksSent += r.nacksSent;
      }
    }
    return { rooms: this.rooms.size, peers, forwardedStreams, retransmittedPackets: recovery.retransmitted, nacksSent: recovery.nacksSent };
  }

  /** The room's open session (someone visible is in it), or null. */
  activeSession(roomId: string): { id: string; startedAt: string } | null {
    return this.sessions.activeSession(roomId);
  }

  /** Removes a peer from outside (API, end-room): 'server removed peer' unless told otherwise. */
  async removePeer(roomId: string, peerId: string, reason: LeaveReason = 'server removed peer', message = ''): Promise<boolean> {
    const peer = this.rooms.get(roomId)?.peers.get(peerId);
    if (!peer) return false;
    peer.send({ type: 'removed', reason, message });
    await this.leave(peer, reason, message);
    return true;
  }

  /** Ends a session from here (its limit): everyone, the recorder too, is removed, so the session closes. */
  async endSession(roomId: string, sessionId: string, message: string): Promise<void> {
    if (this.closing || this.activeSession(roomId)?.id !== sessionId) return;
    this.deps.log.info({ roomId, sessionId, message }, 'ending session');
    const room = this.rooms.get(roomId);
    await Promise.all([...(room?.peers.keys() ?? [])].map((id) => this.removePeer(roomId, id, 'server removed peer', message)));
    // a join that was already under way entered the session meanwhile: it is removed too
    if (this.activeSession(roomId)?.id === sessionId) setTimeout(() => void this.endSession(roomId, sessionId, message), 500).unref();
  }

  /** Per-track forwarding figures, for the benchmark and debugging. */
  stats(): { rooms: number; peers: number; forwarders: number; sinks: number; packets: number; layerSwitches: number; layerPauses: number } {
    let peers = 0;
    let forwarders = 0;
    let sinks = 0;
    let packets = 0;
    let layerSwitches = 0;
    let layerPauses = 0;
    for (const room of this.rooms.values()) {
      peers += room.peers.size;
      for (const peer of room.peers.values()) {
        for (const pub of peer.publications.values()) {
          if (!pub.forwarder) continue;
          forwarders++;
          sinks += pub.forwarder.stats.sinks;
          packets += pub.forwarder.stats.packets;
          layerSwitches += pub.forwarder.stats.layerSwitches;
          layerPauses += pub.forwarder.stats.layerPauses;
        }
      }
    }
    return { rooms: this.rooms.size, peers, forwarders, sinks, packets, layerSwitches, layerPauses };
  }

  /** Server shutdown: every peer leaves ('server removed peer'), sessions close, the socket server stops. */
  async close(): Promise<void> {
    this.closing = true;
    const all = [...this.rooms.values()].flatMap((r) => [...r.peers.values()]);
    await Promise.all(
      all.map((p) => {
        // reconnect: the page tries again until a server is back (a restart)
        p.send({ type: 'removed', reason: 'server removed peer', message: 'server shutting down', reconnect: true });
        return this.leave(p, 'server removed peer', 'server shutting down');
      }),
    );
    this.signaling?.close();
  }
}
