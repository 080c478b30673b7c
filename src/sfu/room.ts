// One active room: its peers, the tracks they publish, and who receives what. Template roles decide:
// a peer publishes what its role's publishParams.allowed lists, and receives the tracks of peers whose role is
// in its subscribeParams.subscribeToRoles. Hidden peers (the recorder) receive but are never announced.
import type { MediaStreamTrack } from 'werift';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import { Forwarder, type TrackKind } from './forwarder.js';
import type { Peer, PeerHooks, Publication, Subscription } from './peer.js';

/** how often speaking is re-evaluated, and how long a voice stays "speaking" after its last loud packet */
const SPEAKING_TICK_MS = 250;
const SPEAKING_HOLD_MS = 700;

export interface TrackInfo {
  track_id: string;
  kind: TrackKind;
  muted: boolean;
}

export interface PeerSummary {
  peer_id: string;
  name: string;
  role: string;
  tracks: TrackInfo[];
}

const publishKind = (kind: TrackKind) => (kind === 'camera' ? 'video' : kind);

export class Room implements PeerHooks {
  readonly peers = new Map<string, Peer>();
  /** peers between their limit check and entry: they hold a place, and the room must not be dropped meanwhile */
  readonly joining = new Set<Peer>();
  private speaking: string[] = [];
  private speakingTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly templateId: string,
    private readonly log: Logger,
  ) {}

  get visiblePeers(): Peer[] {
    return [...this.peers.values()].filter((p) => !p.info.hidden);
  }

  /** Places taken by visible peers, in the room and joining: by `roleName`, and in all (the room's size). */
  occupancy(roleName: string, except?: Peer): { role: number; visible: number } {
    let role = 0;
    let visible = 0;
    for (const p of [...this.peers.values(), ...this.joining]) {
      if (p.info.hidden || p === except) continue; // the recorder takes no one's place; a re-joining page keeps its own
      if (p.info.roleName === roleName) role++;
      visible++;
    }
    return { role, visible };
  }

  /** true when `sub` receives what `pub` publishes */
  receives(sub: Peer, pub: Peer): boolean {
    return sub !== pub && !pub.info.hidden && sub.info.role.subscribeParams.subscribeToRoles.includes(pub.info.roleName);
  }

  mayPublish(peer: Peer, kind: TrackKind): boolean {
    return !peer.info.hidden && peer.info.role.publishParams.allowed.includes(publishKind(kind));
  }

  private liveTracks(peer: Peer): TrackInfo[] {
    return [...peer.publications.values()].filter((p) => !p.ended && p.forwarder).map((p) => ({ track_id: p.trackId, kind: p.kind, muted: p.muted }));
  }

  summary(peer: Peer): PeerSummary {
    return { peer_id: peer.id, name: peer.info.name, role: peer.info.roleName, tracks: this.liveTracks(peer) };
  }

  /** What a peer sees when it joins: the peers it receives, with their live tracks. */
  snapshotFor(peer: Peer): PeerSummary[] {
    return [...this.peers.values()].filter((other) => this.receives(peer, other)).map((other) => this.summary(other));
  }

  add(peer: Peer): void {
    this.peers.set(peer.id, peer);
    if (!peer.info.hidden) {
      for (const other of this.peers.values()) {
        if (this.receives(other, peer)) other.send({ type: 'peer-joined', peer: this.summary(peer) });
      }
    }
    let added = false;
    for (const other of this.peers.values()) {
      if (!this.receives(peer, other)) continue;
      for (const pub of other.publications.values()) {
        if (pub.ended || !pub.forwarder) continue;
        peer.addSubscription(pub.forwarder);
        added = true;
      }
    }
    if (added) void peer.negotiate();
    this.startSpeakingTimer();
  }

  /** Takes a peer out: its tracks stop everywhere, the others are told, its connection closes. */
  async remove(peer: Peer): Promise<void> {
    if (!this.peers.delete(peer.id)) return;
    for (const pub of [...peer.publications.values()]) this.endPublication(peer, pub.trackId);
    for (const sub of peer.subscriptions.values()) {
      const pub = this.peers.get(sub.publisherId)?.publications.get(sub.trackId);
      pub?.forwarder?.removeSink(peer.id);
    }
    if (!peer.info.hidden) {
      for (const other of this.peers.values()) {
        if (this.receives(other, peer)) other.send({ type: 'peer-left', peer_id: peer.id });
      }
    }
    await peer.close();
    if (this.peers.size === 0) this.stopSpeakingTimer();
  }

  /** The page offers tracks; allowed ones get an m-line each in the next offer. Returns the refused ones. */
  publish(peer: Peer, tracks: Array<{ cid: string; kind: TrackKind; muted?: boolean }>): string[] {
    if (peer.closed || this.peers.get(peer.id) !== peer) return tracks.map((t) => t.cid);
    const refused: string[] = [];
    let added = false;
    for (const t of tracks) {
      const live = [...peer.publications.values()].some((p) => !p.ended && (p.cid === t.cid || p.kind === t.kind));
      if (!this.mayPublish(peer, t.kind) || live) {
        refused.push(t.cid);
        continue;
      }
      peer.addPublication(randomUUID(), t.cid, t.kind, t.muted ?? false);
      added = true;
    }
    if (added) void peer.negotiate();
    return refused;
  }

  unpublish(peer: Peer, trackId: string): void {
    if (this.endPublication(peer, trackId)) void peer.negotiate();
  }

  private endPublication(peer: Peer, trackId: string): boolean {
    const pub = peer.publications.get(trackId);
    if (!pub || pub.ended) return false;
    const hadForwarder = pub.forwarder !== null;
    peer.endPublication(trackId);
    if (!hadForwarder) return true;
    for (const other of this.peers.values()) {
      if (!other.subscriptions.has(trackId)) continue;
      other.endSubscription(trackId, null);
      other.send({ type: 'track-removed', peer_id: peer.id, track_id: trackId, kind: pub.kind });
      void other.negotiate();
    }
    return true;
  }

  setMuted(peer: Peer, trackId: string, muted: boolean): void {
    const pub = peer.publications.get(trackId);
    if (!pub || pub.ended || pub.muted === muted) return;
    pub.muted = muted;
    if (!pub.forwarder) return;
    for (const other of this.peers.values()) {
      if (this.receives(other, peer)) other.send({ type: 'track-updated', peer_id: peer.id, track_id: trackId, kind: pub.kind, muted });
    }
  }

  // ---- PeerHooks

  onRemoteTrack(peer: Peer, pub: Publication, track: MediaStreamTrack): void {
    if (!this.peers.has(peer.id)) return;
    // another layer of a simulcast camera already announced
    if (pub.forwarder) return pub.forwarder.addSource(track);
    const forwarder = new Forwarder(pub.trackId, pub.kind, peer.id, pub.transceiver.receiver, this.log, pub.rids);
    forwarder.addSource(track);
    pub.forwarder = forwarder;
    peer.send({ type: 'published', track_id: pub.trackId, cid: pub.cid, kind: pub.kind });
    for (const other of this.peers.values()) {
      if (!this.receives(other, peer)) continue;
      other.send({ type: 'track-added', peer_id: peer.id, name: peer.info.name, track_id: pub.trackId, kind: pub.kind, muted: pub.muted });
      other.addSubscription(forwarder);
      void other.negotiate();
    }
  }

  onNegotiated(peer: Peer): void {
    if (peer.pc?.connectionState === 'connected') this.requestKeyframesFor(peer);
  }

  onConnected(peer: Peer): void {
    this.requestKeyframesFor(peer);
  }

  onKeyframeRequest(peer: Peer, sub: Subscription): void {
    this.forwarderOf(sub)?.requestKeyframe(peer.id);
  }

  /** Each video subscription of the peer gets an equal share of what its link carries. */
  onDownlinkEstimate(peer: Peer, bitrate: number): void {
    const video = [...peer.subscriptions.values()].filter((s) => !s.ended && s.kind !== 'audio');
    for (const sub of video) this.forwarderOf(sub)?.setView(peer.id, { budget: bitrate / video.length });
  }

  /** How wide the page shows a track it receives (device pixels): its simulcast layer follows. */
  setVideoSize(peer: Peer, trackId: string, width: number): void {
    const sub = peer.subscriptions.get(trackId);
    if (sub && !sub.ended) this.forwarderOf(sub)?.setView(peer.id, { wantedWidth: width });
  }

  private forwarderOf(sub: Subscription): Forwarder | null {
    return this.peers.get(sub.publisherId)?.publications.get(sub.trackId)?.forwarder ?? null;
  }

  onTransportLost(peer: Peer, state: string): void {
    this.onPeerLost?.(peer, state);
  }

  /** set by the SFU: removes a peer whose transport died */
  onPeerLost: ((peer: Peer, state: string) => void) | null = null;

  private requestKeyframesFor(peer: Peer): void {
    for (const sub of peer.subscriptions.values()) {
      if (sub.ended || sub.kind === 'audio') continue;
      this.forwarderOf(sub)?.requestKeyframe(peer.id);
    }
  }

  // ---- speaking

  private startSpeakingTimer(): void {
    this.speakingTimer ??= setInterval(() => this.updateSpeaking(), SPEAKING_TICK_MS);
  }

  private stopSpeakingTimer(): void {
    if (this.speakingTimer) clearInterval(this.speakingTimer);
    this.speakingTimer = null;
  }

  /** Visible peers whose unmuted microphone carried speech just now, loudest first. */
  currentSpeakers(): string[] {
    const now = Date.now();
    const loud: Array<{ id: string; level: number }> = [];
    for (const peer of this.visiblePeers) {
      for (const pub of peer.publications.values()) {
        const f = pub.forwarder;
        if (pub.kind !== 'audio' || pub.ended || pub.muted || !f) continue;
        if (now - f.lastLoudAt < SPEAKING_HOLD_MS) loud.push({ id: peer.id, level: f.lastLoudLevel });
      }
    }
    return loud.sort((a, b) => a.level - b.level).map((l) => l.id);
  }

  private updateSpeaking(): void {
    const next = this.currentSpeakers();
    if (next.join() === this.speaking.join()) return;
    this.speaking = next;
    for (const peer of this.peers.values()) peer.send({ type: 'speaking', peer_ids: next });
  }

  get speakers(): string[] {
    return this.speaking;
  }

  close(): void {
    this.stopSpeakingTimer();
  }
}
