// What the SFU tells peers about reaching it across networks (issue 15): the address it announces in its
// candidates when it sits behind a 1:1 NAT (RTC_ANNOUNCED_IP), and the TURN servers a page may relay
// through, with credentials in coturn's shared-secret scheme (the "TURN REST API" convention: username
// "<expiry unix seconds>:<user>", password base64(HMAC-SHA1(secret, username))), living as long as the
// peer's app token. Pure functions: text and values in, text and values out.
import { createHmac } from 'node:crypto';

/** An RTCIceServer as the page's RTCPeerConnection takes it. */
export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

/** TURN settings (config: TURN_URLS, TURN_SECRET). */
export interface TurnSettings {
  urls: string[];
  secret: string | null;
}

/** credentials live at most this long, whatever the token says (a day: a long meeting outlives its join) */
const MAX_CREDENTIAL_SECONDS = 24 * 3600;
/** and at least this long: a token about to expire still gets a join through */
const MIN_CREDENTIAL_SECONDS = 10 * 60;

/**
 * The ICE servers for a peer joining now whose token expires at `tokenExp` (unix seconds): the TURN URLs with
 * time-limited credentials when a secret is set (stun: URLs need none), none when no URL is configured.
 */
export function iceServersFor(turn: TurnSettings, user: string, tokenExp: number | undefined, nowMs = Date.now()): IceServer[] {
  if (turn.urls.length === 0) return [];
  if (!turn.secret) return [{ urls: turn.urls }];
  const now = Math.floor(nowMs / 1000);
  const life = Math.min(MAX_CREDENTIAL_SECONDS, Math.max(MIN_CREDENTIAL_SECONDS, (tokenExp ?? now + MAX_CREDENTIAL_SECONDS) - now));
  // coturn splits the username at the first ':' (the expiry); the rest names the user in its logs
  const username = `${now + life}:${user.replace(/[^A-Za-z0-9_.@-]/g, '_').slice(0, 64) || 'peer'}`;
  const credential = createHmac('sha1', turn.secret).update(username).digest('base64');
  const stun = turn.urls.filter((u) => u.startsWith('stun:'));
  const relays = turn.urls.filter((u) => !u.startsWith('stun:'));
  return [...(stun.length ? [{ urls: stun }] : []), ...(relays.length ? [{ urls: relays, username, credential }] : [])];
}

const CANDIDATE = /^(a=candidate:\S+ \d+ \S+ \d+ )(\S+)( \d+ typ host)/;

/**
 * The SDP with the address of its host candidates replaced by the announced one (1:1 NAT: the public address
 * forwards every port to this machine's), and the media's connection lines with them. Candidates of the other
 * address family are left out: they name this machine's own addresses, which peers outside cannot reach.
 */
export function announceAddress(sdp: string, announced: string): string {
  const v6 = announced.includes(':');
  const replaced = new Set<string>();
  const lines = sdp.split('\r\n').flatMap((line) => {
    const m = CANDIDATE.exec(line);
    if (!m) return [line];
    if (m[2].includes(':') !== v6) return [];
    replaced.add(m[2]);
    return [m[1] + announced + line.slice(m[1].length + m[2].length)];
  });
  const family = v6 ? 'IP6' : 'IP4';
  return lines.map((line) => (line.startsWith('c=IN ') && replaced.has(line.split(' ')[2]) ? `c=IN ${family} ${announced}` : line)).join('\r\n');
}
