// Session rows with their peers → the API's session object, 100ms-shaped: peers keyed by peer id, the hidden
// recorder never listed.
import type { PeerTable, SessionTable } from '../../store/schema.js';
import { isHiddenRole } from '../../model/templates.js';
import type { SessionWithPeers } from '../../store/sessions.js';

export interface SessionPeer {
  id: string;
  name: string;
  role: string;
  user_id: string;
  joined_at: string;
  left_at: string | null;
}

export interface Session {
  id: string;
  room_id: string;
  customer_id: string;
  active: boolean;
  peers: Record<string, SessionPeer>;
  created_at: string;
  updated_at: string;
}

export function rowToSession(r: SessionTable, peers: PeerTable[], customerId: string): Session {
  const out: Record<string, SessionPeer> = {};
  for (const p of peers) {
    // the recorder is a hidden participant: never listed
    if (isHiddenRole(p.role)) continue;
    out[p.id] = { id: p.id, name: p.name, role: p.role, user_id: p.user_id, joined_at: p.joined_at, left_at: p.left_at ?? null };
  }
  return {
    id: r.id,
    room_id: r.room_id,
    customer_id: customerId,
    active: Number(r.active) === 1,
    peers: out,
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

export function presentSession(s: SessionWithPeers, customerId: string): Session {
  return rowToSession(s.row, s.peers, customerId);
}
