// Sessions (reference §5.4): the first visible peer opens a session, the last visible peer leaving closes it.
// Every visible join and leave is a `peers` row and an event (peer.join.success / peer.leave.success).
// Hidden peers (the recorder) are neither: they never open, keep open or appear in a session.
//
// After a server restart the sessions it left open are resumed for a grace period (SESSION_RESUME_SECONDS):
// their peers are "ghosts" (rows still joined, no connection) until their pages join again (the ghost leaves
// as the new peer joins the same session) or the grace period ends (ghosts leave; an empty session closes).
//
// Otherwise closing is immediate, with no grace period: an empty room has no session, so "is anyone here" is a plain
// question for auto-stop logic, and the session's duration is the time people were actually in it. A peer
// that reloads its page leaves and joins again: if it was alone, that makes a new session.
// A session lasts at most the session limit (reference: 12 h, or the room's max_duration_seconds when lower);
// when it is reached `onLimit` asks the SFU to remove everyone, which closes the session as usual.
import type { Db } from '../store/db.js';
import { toJson } from '../store/db.js';
import { closeSessionRow, insertOpenSession, markPeerRemoved, openSessionsWithRooms, peersStillIn, recordPeerJoin, recordPeerLeave } from '../store/sessions.js';
import type { EventLog } from './events.js';
import { objectId, rfc3339, now } from '../clock.js';
import { isHiddenRole } from '../model/templates.js';

/** Why a peer left, as the reference's peer.leave.success `reason`. */
export type LeaveReason = 'client request' | 'peer kicked' | 'websocket closed' | 'ice connection state closed' | 'server removed peer';

export interface JoiningPeer {
  peerId: string;
  roomId: string;
  roomName: string;
  templateId: string;
  userId: string;
  name: string;
  userData: string;
  role: string;
  /** the room's max_duration_seconds: caps this session's length when it opens one */
  maxDurationSeconds?: number;
  /** the peer this page was before its connection dropped (a server restart: its ghost leaves now) */
  previousPeerId?: string;
}

export interface JoinedPeer extends JoiningPeer {
  sessionId: string;
  sessionStartedAt: string;
  joinedAt: string;
}

interface OpenSession {
  id: string;
  roomId: string;
  roomName: string;
  templateId: string;
  startedAt: string;
  peers: Set<string>;
  limitTimer: NodeJS.Timeout | null;
  /** peers of a session resumed after a restart that have not joined again yet */
  ghosts: Map<string, JoinedPeer>;
  graceTimer: NodeJS.Timeout | null;
}

const seconds = (from: string, to: string) => Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000));

export function joinEventData(p: JoinedPeer): Record<string, unknown> {
  return {
    room_id: p.roomId,
    room_name: p.roomName,
    session_id: p.sessionId,
    peer_id: p.peerId,
    user_id: p.userId,
    template_id: p.templateId,
    user_name: p.name,
    user_data: p.userData,
    role: p.role,
    joined_at: p.joinedAt,
    session_started_at: p.sessionStartedAt,
    type: 'regular',
  };
}

/** the reference's session maximum: 12 h */
export const SESSION_MAX_SECONDS = 43200;

export class SessionTracker {
  private readonly open = new Map<string, OpenSession>();
  /** per room: joins and leaves run one after another, so two first peers cannot open two sessions */
  private readonly chains = new Map<string, Promise<unknown>>();
  /** set by the SFU: a session reached its limit, its peers must leave */
  onLimit: ((roomId: string, sessionId: string) => void) | null = null;

  constructor(
    private readonly db: Db,
    private readonly events: EventLog,
    private readonly maxSeconds = SESSION_MAX_SECONDS,
  ) {}

  private serial<T>(roomId: string, work: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(roomId) ?? Promise.resolve();
    const next = prev.then(work, work);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.chains.set(roomId, settled);
    void settled.then(() => {
      if (this.chains.get(roomId) === settled) this.chains.delete(roomId);
    });
    return next;
  }

  /** The room's open session, if anyone visible is in it. */
  activeSession(roomId: string): { id: string; startedAt: string } | null {
    const s = this.open.get(roomId);
    return s ? { id: s.id, startedAt: s.startedAt } : null;
  }

  /** Records a visible peer's join (opening the session if it is the first); hidden peers are refused. */
  join(p: JoiningPeer): Promise<JoinedPeer> {
    if (isHiddenRole(p.role)) throw new Error('hidden peers do not join sessions');
    return this.serial(p.roomId, async () => {
      let s = this.open.get(p.roomId);
      if (!s) {
        const startedAt = rfc3339();
        s = { id: objectId(), roomId: p.roomId, roomName: p.roomName, templateId: p.templateId, startedAt, peers: new Set(), limitTimer: null, ghosts: new Map(), graceTimer: null };
        this.limitAfter(s, Math.min(this.maxSeconds, p.maxDurationSeconds ?? this.maxSeconds));
        await insertOpenSession(this.db, { id: s.id, roomId: p.roomId, at: startedAt });
        this.open.set(p.roomId, s);
        await this.events.emit('session.open.success', p.roomId, {
          room_id: p.roomId,
          room_name: p.roomName,
          session_id: s.id,
          template_id: p.templateId,
          session_started_at: startedAt,
        });
      }
      const ghost = p.previousPeerId ? s.ghosts.get(p.previousPeerId) : undefined;
      // the same user and role coming back after a restart: a peer id alone retires no one
      if (ghost && ghost.userId === p.userId && ghost.role === p.role) await this.retireGhost(s, ghost, 'joined again after a server restart');
      const joinedAt = rfc3339();
      await recordPeerJoin(this.db, {
        id: p.peerId,
        session_id: s.id,
        room_id: p.roomId,
        user_id: p.userId,
        name: p.name,
        role: p.role,
        user_data: p.userData,
        type: 'regular',
        joined_at: joinedAt,
        left_at: null,
        leave_reason: null,
        leave_message: null,
      });
      s.peers.add(p.peerId);
      const { maxDurationSeconds: _limit, previousPeerId: _previous, ...peer } = p;
      const joined: JoinedPeer = { ...peer, sessionId: s.id, sessionStartedAt: s.startedAt, joinedAt };
      await this.events.emit('peer.join.success', p.roomId, joinEventData(joined));
      return joined;
    });
  }

  /** Records a leave; the last visible peer out closes the session. */
  leave(p: JoinedPeer, reason: LeaveReason, message = ''): Promise<void> {
    return this.serial(p.roomId, async () => {
      const leftAt = rfc3339();
      await recordPeerLeave(this.db, p.peerId, { left_at: leftAt, leave_reason: reason, leave_message: message });
      await this.events.emit('peer.leave.success', p.roomId, {
        ...joinEventData(p),
        left_at: leftAt,
        duration: seconds(p.joinedAt, leftAt),
        reason,
        message,
      });
      const s = this.open.get(p.roomId);
      if (!s || s.id !== p.sessionId) return;
      s.peers.delete(p.peerId);
      if (s.peers.size === 0) await this.close(s, leftAt);
    });
  }

  /** Asks the SFU to end the session `seconds` from now, if it is still open then. */
  private limitAfter(s: OpenSession, seconds: number): void {
    s.limitTimer = setTimeout(() => {
      if (this.open.get(s.roomId) === s) this.onLimit?.(s.roomId, s.id);
    }, Math.max(0, seconds) * 1000);
    s.limitTimer.unref();
  }

  private async close(s: OpenSession, stoppedAt: string): Promise<void> {
    if (s.limitTimer) clearTimeout(s.limitTimer);
    if (s.graceTimer) clearTimeout(s.graceTimer);
    if (this.open.get(s.roomId) === s) this.open.delete(s.roomId);
    await closeSessionRow(this.db, s.id, stoppedAt);
    await this.events.emit('session.close.success', s.roomId, {
      room_id: s.roomId,
      room_name: s.roomName,
      session_id: s.id,
      template_id: s.templateId,
      session_started_at: s.startedAt,
      session_duration: seconds(s.startedAt, stoppedAt),
      session_stopped_at: stoppedAt,
    });
  }

  /**
   * At start: sessions a previous process (crash, kill, restart) left open. Each one is resumed for `graceMs`:
   * its peers' pages reconnect on their own and join it again. Peers not back by then leave with
   * 'server removed peer' and a session left empty closes, with events, so webhooks and auto-stop see an end.
   * `graceMs` 0: they all leave and the sessions close now. Returns how many sessions were left open.
   */
  async resumeStale(graceMs: number): Promise<number> {
    const stale = await openSessionsWithRooms(this.db);
    for (const row of stale) {
      if (this.open.get(row.room_id)?.id === row.id) continue;
      const s: OpenSession = { id: row.id, roomId: row.room_id, roomName: row.name, templateId: row.template_id, startedAt: row.created_at, peers: new Set(), limitTimer: null, ghosts: new Map(), graceTimer: null };
      for (const peer of await peersStillIn(this.db, row.id)) {
        s.peers.add(peer.id);
        s.ghosts.set(peer.id, {
          peerId: peer.id,
          roomId: row.room_id,
          roomName: row.name,
          templateId: row.template_id,
          userId: peer.user_id,
          name: peer.name,
          userData: peer.user_data,
          role: peer.role,
          sessionId: row.id,
          sessionStartedAt: row.created_at,
          joinedAt: peer.joined_at,
        });
      }
      if (graceMs <= 0 || s.ghosts.size === 0) {
        await this.endGhosts(s);
        continue;
      }
      this.open.set(row.room_id, s);
      this.limitAfter(s, this.maxSeconds - seconds(row.created_at, rfc3339()));
      s.graceTimer = setTimeout(() => void this.serial(s.roomId, () => this.endGhosts(s)).catch(() => undefined), graceMs);
      s.graceTimer.unref();
    }
    return stale.length;
  }

  /** The ghosts still there leave; the session closes if no one else is in it. */
  private async endGhosts(s: OpenSession): Promise<void> {
    for (const g of [...s.ghosts.values()]) await this.retireGhost(s, g, 'server restarted');
    if (s.peers.size === 0) await this.close(s, rfc3339(now()));
  }

  private async retireGhost(s: OpenSession, g: JoinedPeer, message: string): Promise<void> {
    s.ghosts.delete(g.peerId);
    s.peers.delete(g.peerId);
    const leftAt = rfc3339();
    await markPeerRemoved(this.db, g.peerId, { left_at: leftAt, leave_reason: 'server removed peer', leave_message: message });
    await this.events.emit('peer.leave.success', g.roomId, {
      ...joinEventData(g),
      left_at: leftAt,
      duration: seconds(g.joinedAt, leftAt),
      reason: 'server removed peer',
      message,
    });
  }
}

/** user_data is free text in the reference; objects a client sends are kept as JSON text. */
export function userDataText(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : toJson(v);
}
