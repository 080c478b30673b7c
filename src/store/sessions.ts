// Session rows and their peers (the API object: api/presenters/sessions.ts).
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
