// Session rows and their peers: the API's reads (the API object: api/presenters/sessions.ts) and the session tracker's writes (domain/sessions.ts).
// A session is one continuous use of a room: opened by the first peer, closed when the last one leaves.
import type { Db } from './db.js';
import type { PeerTable, SessionTable } from './schema.js';

/** A session row and the peers that were in it, oldest first. */
export interface SessionWithPeers {
  row: SessionTable;
  peers: PeerTable[];
}

async function peersOf(db: Db, sessionIds: string[]): Promise<Map<string, PeerTable[]>> {
  const bySession = new Map<string, PeerTable[]>(sessionIds.map((id) => [id, []]));
  if (sessionIds.length === 0) return bySession;
  const rows = await db.selectFrom('peers').selectAll().where('session_id', 'in', sessionIds).orderBy('joined_at', 'asc').orderBy('id', 'asc').execute();
  for (const p of rows) bySession.get(p.session_id)?.push(p);
  return bySession;
}

export async function getSessionRow(db: Db, id: string): Promise<SessionTable | undefined> {
  return db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function getSession(db: Db, id: string): Promise<SessionWithPeers | null> {
  const row = await getSessionRow(db, id);
  if (!row) return null;
  const peers = await peersOf(db, [row.id]);
  return { row, peers: peers.get(row.id) ?? [] };
}

export interface SessionFilter {
  roomId?: string;
  active?: boolean;
  /** RFC3339 bounds on created_at (exclusive) */
  after?: string;
  before?: string;
  limit: number;
  /** the previous page's last session */
  startAfter?: { id: string; created_at: string };
}

/** Newest first by (created_at, id): a page bound that does not depend on how ids are made. */
export async function listSessions(db: Db, f: SessionFilter): Promise<SessionWithPeers[]> {
  let q = db.selectFrom('sessions').selectAll();
  if (f.roomId !== undefined) q = q.where('room_id', '=', f.roomId);
  if (f.active !== undefined) q = q.where('active', '=', f.active ? 1 : 0);
  if (f.after !== undefined) q = q.where('created_at', '>', f.after);
  if (f.before !== undefined) q = q.where('created_at', '<', f.before);
  const s = f.startAfter;
  if (s) q = q.where((eb) => eb.or([eb('created_at', '<', s.created_at), eb.and([eb('created_at', '=', s.created_at), eb('id', '<', s.id)])]));
  const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(f.limit).execute();
  const peers = await peersOf(db, rows.map((r) => r.id));
  return rows.map((row) => ({ row, peers: peers.get(row.id) ?? [] }));
}

/** A new session, open from `at` (the session tracker's, domain/sessions.ts). */
export async function insertOpenSession(db: Db, s: { id: string; roomId: string; at: string }): Promise<void> {
  await db.insertInto('sessions').values({ id: s.id, room_id: s.roomId, active: 1, created_at: s.at, updated_at: s.at, ended_at: null }).execute();
}

/** A peer joined its session: its row, and the session's `updated_at` moves to the join. */
export async function recordPeerJoin(db: Db, peer: PeerTable): Promise<void> {
  await db.insertInto('peers').values(peer).execute();
  await db.updateTable('sessions').set({ updated_at: peer.joined_at }).where('id', '=', peer.session_id).execute();
}

export type PeerLeave = Pick<PeerTable, 'left_at' | 'leave_reason' | 'leave_message'>;

/** The peer left (unless its leave is already recorded). */
export async function recordPeerLeave(db: Db, peerId: string, leave: PeerLeave): Promise<void> {
  await db.updateTable('peers').set(leave).where('id', '=', peerId).where('left_at', 'is', null).execute();
}

/** The peer was removed (a session left open by a previous process). */
export async function markPeerRemoved(db: Db, peerId: string, leave: PeerLeave): Promise<void> {
  await db.updateTable('peers').set(leave).where('id', '=', peerId).execute();
}

export async function closeSessionRow(db: Db, id: string, at: string): Promise<void> {
  await db.updateTable('sessions').set({ active: 0, ended_at: at, updated_at: at }).where('id', '=', id).execute();
}

/** Every session marked open, with its room's name and template. */
export async function openSessionsWithRooms(db: Db): Promise<{ id: string; room_id: string; created_at: string; name: string; template_id: string }[]> {
  return db
    .selectFrom('sessions')
    .innerJoin('rooms', 'rooms.id', 'sessions.room_id')
    .select(['sessions.id', 'sessions.room_id', 'sessions.created_at', 'rooms.name', 'rooms.template_id'])
    .where('sessions.active', '=', 1)
    .execute();
}

/** The session's peers that have not left. */
export async function peersStillIn(db: Db, sessionId: string): Promise<PeerTable[]> {
  return db.selectFrom('peers').selectAll().where('session_id', '=', sessionId).where('left_at', 'is', null).execute();
}
