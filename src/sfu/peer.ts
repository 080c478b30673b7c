// One peer in a room: its signaling socket and one werift RTCPeerConnection carrying both what it publishes
// (recvonly transceivers here) and what it receives (sendonly transceivers here).
//
// The server always makes the offer, the browser always answers: adding or removing a track anywhere is one
// more server offer, queued per peer, so offers never cross (no glare handling needed in the page).
import { announceAddress, type IceServer } from './iceConfig.js';
import { CAMERA_LAYERS, SIMULCAST_BITRATE_SHARE, cameraRids } from './simulcast.js';
import { nackPerSsrc } from './simulcastNack.js';
import {
  PictureLossIndication,
  ReceiverEstimatedMaxBitrate,
  RTCPeerConnection,
  RTCRtpCodecParameters,
  RtcpPayloadSpecificFeedback,
  useAbsSendTime,
  useAudioLevelIndication,
  useNACK,
  usePLI,
  useREMB,
  useRepairedRtpStreamId,
  useSdesMid,
  useSdesRTPStreamId,
  type MediaStreamTrack,
  type RTCDtlsTransport,
  type RtcpPacket,
  type RTCRtpTransceiver,
} from 'werift';
import type { Logger } from '../logger.js';
import type { Role } from '../model/templates.js';
import type { Forwarder, TrackKind } from './forwarder.js';
import type { JoinedPeer } from '../domain/sessions.js';

/** RTCP payload-specific feedback format 4 (full intra request); werift does not export its class */
const FIR_COUNT = 4;

/** werift 0.24.4 counts these itself (private in its typings; its getStats reports them too, but async) */
interface WeriftSenderCounts {
  retransmittedPacketsSent?: number;
}
interface WeriftReceiverCounts {
  nackCountBySsrc?: Record<number, number>;
}

/** NACK-driven loss recovery counts (Peer.lossRecovery). */
export interface LossRecovery {
  retransmitted: number;
  nacksSent: number;
}

/** How the peer's media connection is set up (config: PEER_TIMEOUT_SECONDS, RTC_*, TURN_*). */
export interface PeerTransport {
  /** silent this long (ICE disconnected, no answer), it is gone */
  timeoutMs: number;
  announcedIp: string | null;
  portRange: [number, number] | null;
  iceServers: IceServer[];
  /** passive TCP candidates beside the UDP ones (RTC_ICE_TCP) */
  iceTcp: boolean;
  /** cameras are published in layers (RTC_SIMULCAST) */
  simulcast: boolean;
}

export interface PeerIdentity {
  id: string;
  name: string;
  userId: string;
  userData: string;
  roleName: string;
  role: Role;
  /** the recorder: never announced, never a participant */
  hidden: boolean;
  joinedAt: string;
  /** sha-256 of the token it joined with: only a page holding that token may take its place (a re-join) */
  tokenDigest: string;
}

export interface Publication {
  trackId: string;
  /** the browser's own id for the track, so it can attach its MediaStreamTrack to our transceiver */
  cid: string;
  kind: TrackKind;
  muted: boolean;
  transceiver: RTCRtpTransceiver;
  /** the simulcast layers its m-line was offered, smallest first; none: one stream */
  rids: readonly string[];
  forwarder: Forwarder | null;
  ended: boolean;
  /** stops listening for the transceiver's tracks (when the m-line is reused) */
  unwatch: () => void;
}

export interface Subscription {
  trackId: string;
  publisherId: string;
  kind: TrackKind;
  transceiver: RTCRtpTransceiver;
  ended: boolean;
}

/** What the page is told about each m-line of an offer (by mid). */
export type MidInfo =
  | { dir: 'publish'; cid: string; track_id: string; kind: TrackKind; active: boolean; layers?: Array<{ rid: string; scale_down_by: number; max_kbps: number }> }
  | { dir: 'subscribe'; track_id: string; peer_id: string; kind: TrackKind; active: boolean };

export interface PeerHooks {
  /** the publisher's first RTP stream on a publication arrived at its transceiver */
  onRemoteTrack(peer: Peer, pub: Publication, track: MediaStreamTrack): void;
  /** an offer was answered: new subscriptions can be sent keyframes */
  onNegotiated(peer: Peer): void;
  /** ICE/DTLS connected */
  onConnected(peer: Peer): void;
  /** ICE/DTLS failed or closed under us */
  onTransportLost(peer: Peer, state: string): void;
  /** the page cannot decode a track it receives (PLI/FIR) */
  onKeyframeRequest(peer: Peer, sub: Subscription): void;
  /** the page's estimate of what its link carries to it (REMB), bit/s */
  onDownlinkEstimate(peer: Peer, bitrate: number): void;
}

export interface BitrateHints {
  /** kbit/s */
  camera: number;
  screen: number;
}

function codecs() {
  // Only VP8 and Opus: the SFU never transcodes, so every publisher must send what every subscriber decodes.
  // REMB and NACK feedback, no transport-cc: werift gives Chrome no usable transport-cc feedback.
  return {
    audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, parameters: 'minptime=10;useinbandfec=1' })],
    video: [new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90000, rtcpFeedback: [useNACK(), usePLI(), useREMB()] })],
  };
}

function headerExtensions() {
  // werift numbers extensions in list order, audio then video; the shared `mid` object ends up with one id
  // for both kinds, as BUNDLE requires.
  const mid = useSdesMid();
  // (rid: which simulcast layer a packet belongs to)
  return { audio: [mid, useAudioLevelIndication()], video: [mid, useAbsSendTime(), useSdesRTPStreamId(), useRepairedRtpStreamId()] };
}

/**
 * Adds x-google-{start,min,max}-bitrate to VP8 in the m-lines the browser publishes on. Without a bandwidth
 * estimate from the SFU, Chrome otherwise stays at a few hundred kbit/s and downscales.
 */
export function addBitrateHints(sdp: string, hintsByMid: Map<string, number>): string {
  if (hintsByMid.size === 0) return sdp;
  const sections = sdp.split(/\r\n(?=m=)/);
  return sections
    .map((section) => {
      const mid = /\r\na=mid:(\S+)/.exec(section)?.[1];
      const kbps = mid === undefined ? undefined : hintsByMid.get(mid);
      if (!kbps || !section.startsWith('m=video')) return section;
      const pt = /a=rtpmap:(\d+) VP8\/90000/i.exec(section)?.[1];
      if (!pt) return section;
      const hints = `x-google-start-bitrate=${Math.round(kbps * 0.8)};x-google-min-bitrate=${Math.round(kbps * 0.3)};x-google-max-bitrate=${kbps}`;
      const fmtp = new RegExp(`(\\r\\na=fmtp:${pt} )([^\\r]*)`);
      if (fmtp.test(section)) return section.replace(fmtp, `$1$2;${hints}`);
      return section.replace(new RegExp(`(\\r\\na=rtpmap:${pt} [^\\r]*)`), `$1\r\na=fmtp:${pt} ${hints}`);
    })
    .join('\r\n');
}

/** Closes the ICE connections' sockets of an already closed RTCPeerConnection (werift 0.24.4 internals). */
async function closeIceSockets(pc: RTCPeerConnection): Promise<void> {
  for (const t of pc.iceTransports) await (t as unknown as { connection: { close(): Promise<void> } }).connection.close().catch(() => undefined);
}

/**
 * A new transceiver that werift 0.24.4 will not hand over: its addTransceiver replaces any transceiver answered
 * `inactive` that never sent (whatever its kind, so an audio m-line could turn video, which Chrome rejects),
 * orphaning the one an ended publication/subscription still holds. The SFU reuses its ended m-lines itself.
 */
function addOwnTransceiver(pc: RTCPeerConnection, kind: 'audio' | 'video', direction: 'recvonly' | 'sendonly', rids: readonly string[] = []): RTCRtpTransceiver {
  const transceiver = pc.addTransceiver(kind, rids.length ? { direction, simulcast: rids.map((rid) => ({ rid, direction: 'recv' as const })) } : { direction });
  (transceiver as unknown as { usedForSender: boolean }).usedForSender = true;
  return transceiver;
}

export class Peer {
  pc: RTCPeerConnection | null = null;
  session: JoinedPeer | null = null;
  readonly publications = new Map<string, Publication>();
  readonly subscriptions = new Map<string, Subscription>();
  private readonly watchedTransports = new WeakSet<RTCDtlsTransport>();
  private negotiating = false;
  private renegotiate = false;
  private answerTimer: NodeJS.Timeout | null = null;
  private disconnectedTimer: NodeJS.Timeout | null = null;
  closed = false;
  private iceRestartWanted = false;
  /** ICE restarts the page asked for (network changes it recovered from) */
  iceRestarts = 0;
  private finalLossRecovery: LossRecovery = { retransmitted: 0, nacksSent: 0 };
  /** set when the page reports it rendered its first remote frame, for figures */
  connectedAt = 0;
  /** simulcast m-lines made so far (each gets its own rids) */
  private simulcastLines = 0;

  constructor(
    readonly info: PeerIdentity,
    private readonly sendMessage: (msg: Record<string, unknown>) => void,
    private readonly hooks: PeerHooks,
    private readonly hints: BitrateHints,
    private readonly log: Logger,
    private readonly transport: PeerTransport,
  ) {}

  /** ICE servers for the page (TURN with this peer's credentials), sent with `joined` */
  get iceServers(): IceServer[] {
    return this.transport.iceServers;
  }

  get id(): string {
    return this.info.id;
  }

  /** messages wait here until the page has its `joined` message, so nothing arrives before it */
  private outbox: Array<Record<string, unknown>> | null = [];

  send(msg: Record<string, unknown>): void {
    if (this.closed) return;
    if (this.outbox) this.outbox.push(msg);
    else this.sendMessage(msg);
  }

  /** Sends `first` (the joined message), then everything queued meanwhile. */
  open(first: Record<string, unknown>): void {
    const queued = this.outbox ?? [];
    this.outbox = null;
    if (this.closed) return;
    this.sendMessage(first);
    for (const m of queued) this.sendMessage(m);
  }

  private ensurePc(): RTCPeerConnection {
    if (this.pc) return this.pc;
    // a closed peer must not open a new connection (and its UDP sockets) that nothing would close
    if (this.closed) throw new Error('peer is closed');
    const pc = new RTCPeerConnection({
      bundlePolicy: 'max-bundle',
      codecs: codecs(),
      headerExtensions: headerExtensions(),
      // IPv6 host candidates wherever this machine has a global address (werift leaves out link-local and
      // loopback ones); an IPv4 RTC_ANNOUNCED_IP drops them from the offer (announceAddress)
      iceUseIpv6: true,
      // a firewall opens these ports and no others (RTC_PORT_RANGE)
      icePortRange: this.transport.portRange ?? undefined,
      iceUseTcp: this.transport.iceTcp,
    });
    pc.connectionStateChange.subscribe((state) => {
      if (this.closed) return;
      if (state === 'connected') {
        if (this.disconnectedTimer) clearTimeout(this.disconnectedTimer);
        this.disconnectedTimer = null;
        this.connectedAt ||= Date.now();
        this.hooks.onConnected(this);
      } else if (state === 'closed') {
        this.hooks.onTransportLost(this, state);
      } else if (state === 'disconnected' || state === 'failed') {
        // consent checks stopped (or every pair failed): the network gets the peer timeout to come back, and
        // the page to ask for an ICE restart (a network change)
        this.disconnectedTimer ??= setTimeout(() => {
          if (this.pc?.connectionState !== 'connected') this.hooks.onTransportLost(this, 'disconnected');
        }, this.transport.timeoutMs);
      }
    });
    this.pc = pc;
    return pc;
  }

  /**
   * A recvonly m-line for a track the page will send; RTP on it becomes a Forwarder. An m-line of an ended
   * publication of the same media kind is reused, so publishing and unpublishing does not grow the SDP.
   */
  addPublication(trackId: string, cid: string, kind: TrackKind, muted: boolean): Publication {
    const pc = this.ensurePc();
    const media = kind === 'audio' ? 'audio' : 'video';
    // a camera's layers: a simulcast m-line is reused by a camera only, a single-stream one by anything else
    const layered = kind === 'camera' && this.transport.simulcast;
    const old = [...this.publications.values()].find((p) => p.ended && p.transceiver.kind === media && p.transceiver.mid && (p.rids.length > 0) === layered);
    if (old) {
      old.unwatch();
      this.publications.delete(old.trackId);
    }
    const rids = old?.rids ?? (layered ? cameraRids(this.simulcastLines++) : []);
    let transceiver = old?.transceiver;
    if (!transceiver) {
      transceiver = addOwnTransceiver(pc, media, 'recvonly', rids);
      // (one NACK tracker per layer)
      if (rids.length) nackPerSsrc(transceiver.receiver);
    }
    const pub: Publication = { trackId, cid, kind, muted, transceiver, rids, forwarder: null, ended: false, unwatch: () => undefined };
    // (a simulcast m-line has a track per layer)
    pub.unwatch = transceiver.onTrack.subscribe((track) => {
      if (!pub.ended) this.hooks.onRemoteTrack(this, pub, track);
    }).unSubscribe;
    this.publications.set(trackId, pub);
    return pub;
  }

  endPublication(trackId: string): Publication | undefined {
    const pub = this.publications.get(trackId);
    if (!pub || pub.ended) return undefined;
    pub.ended = true;
    pub.forwarder?.stop();
    pub.forwarder = null;
    // The m-line stays recvonly here and the page answers it `inactive`: werift writes port 0 for an inactive
    // m-line but keeps it in the BUNDLE group, which Chrome rejects once that m-line is the group's first.
    // The next publication of this media kind takes it over.
    return pub;
  }

  /**
   * A sendonly m-line fed by the publisher's forwarder. The m-line of an ended subscription of the same media
   * kind is reused (its numbering continues, see Forwarder), so tracks coming and going do not grow the SDP.
   */
  addSubscription(forwarder: Forwarder): Subscription {
    const pc = this.ensurePc();
    const media = forwarder.kind === 'audio' ? 'audio' : 'video';
    const old = [...this.subscriptions.values()].find((s) => s.ended && s.transceiver.kind === media && s.transceiver.mid);
    if (old) this.subscriptions.delete(old.trackId);
    const transceiver = old?.transceiver ?? addOwnTransceiver(pc, media, 'sendonly');
    // camera and microphone of one peer share a stream id: the receiver lip-syncs tracks of one stream
    transceiver.sender.streamIds = [forwarder.streamId];
    const sub: Subscription = { trackId: forwarder.trackId, publisherId: forwarder.publisherId, kind: forwarder.kind, transceiver, ended: false };
    this.subscriptions.set(forwarder.trackId, sub);
    this.watchRtcp(transceiver);
    forwarder.addSink(this.id, transceiver.sender, this.info.hidden, old !== undefined);
    return sub;
  }

  /**
   * Keyframe requests from the page, read off the transport: werift routes a PLI by its *sender* SSRC first,
   * and Chrome signs receive-side feedback with the SSRC of a track it sends, so a publishing page's PLIs
   * would land on our receiver for that track and be dropped.
   */
  private watchRtcp(transceiver: RTCRtpTransceiver): void {
    const transport = transceiver.dtlsTransport;
    if (!transport || this.watchedTransports.has(transport)) return;
    this.watchedTransports.add(transport);
    transport.onRtcp.subscribe((packet: RtcpPacket) => {
      if (packet.type !== RtcpPayloadSpecificFeedback.type) return;
      const feedback = (packet as RtcpPayloadSpecificFeedback).feedback;
      if (feedback instanceof ReceiverEstimatedMaxBitrate) return this.hooks.onDownlinkEstimate(this, Number(feedback.bitrate));
      const fb = feedback as { count: number; mediaSsrc?: number; fir?: Array<{ ssrc: number }> };
      if (fb.count !== PictureLossIndication.count && fb.count !== FIR_COUNT) return;
      const ssrcs = [fb.mediaSsrc, ...(fb.fir ?? []).map((f) => f.ssrc)];
      for (const sub of this.subscriptions.values()) {
        if (!sub.ended && ssrcs.includes(sub.transceiver.sender.ssrc)) this.hooks.onKeyframeRequest(this, sub);
      }
    });
  }

  endSubscription(trackId: string, forwarder: Forwarder | null): void {
    const sub = this.subscriptions.get(trackId);
    if (!sub || sub.ended) return;
    sub.ended = true;
    forwarder?.removeSink(this.id);
    // stays sendonly with nothing fed to it; the page answers `inactive` (see endPublication)
  }

  private midMap(): Record<string, MidInfo> {
    const out: Record<string, MidInfo> = {};
    for (const p of this.publications.values()) {
      if (!p.transceiver.mid) continue;
      // the page scales each layer of its camera down by this much
      const layers = p.rids.map((rid) => {
        const layer = CAMERA_LAYERS.find((l) => rid.startsWith(l.name))!;
        return { rid, scale_down_by: layer.scaleDownBy, max_kbps: Math.round(this.hints.camera * layer.bitrateShare) };
      });
      out[p.transceiver.mid] = { dir: 'publish', cid: p.cid, track_id: p.trackId, kind: p.kind, active: !p.ended, ...(layers.length ? { layers } : {}) };
    }
    for (const s of this.subscriptions.values()) {
      if (s.transceiver.mid) out[s.transceiver.mid] = { dir: 'subscribe', track_id: s.trackId, peer_id: s.publisherId, kind: s.kind, active: !s.ended };
    }
    return out;
  }

  /** Sends a fresh offer covering every m-line, or queues one if an offer is already out. */
  async negotiate(): Promise<void> {
    if (this.closed || !this.pc) return;
    if (this.negotiating) {
      this.renegotiate = true;
      return;
    }
    this.negotiating = true;
    this.renegotiate = false;
    try {
      const pc = this.pc;
      const offer = await pc.createOffer(this.iceRestartWanted ? { iceRestart: true } : undefined);
      this.iceRestartWanted = false;
      await pc.setLocalDescription(offer);
      // closed meanwhile: ICE gathering opened its sockets after the close (werift's close is once only)
      if (this.closed) return void (await closeIceSockets(pc));
      const hintsByMid = new Map<string, number>();
      for (const p of this.publications.values()) {
        if (p.kind === 'audio' || p.ended || !p.transceiver.mid) continue;
        // a simulcast camera: all its layers together
        hintsByMid.set(p.transceiver.mid, p.kind === 'screen' ? this.hints.screen : Math.round(this.hints.camera * (p.rids.length ? SIMULCAST_BITRATE_SHARE : 1)));
      }
      const hinted = addBitrateHints(pc.localDescription?.sdp ?? offer.sdp, hintsByMid);
      // behind a 1:1 NAT the page must reach us at the public address (RTC_ANNOUNCED_IP)
      const sdp = this.transport.announcedIp ? announceAddress(hinted, this.transport.announcedIp) : hinted;
      this.send({ type: 'offer', sdp, mids: this.midMap() });
      this.answerTimer = setTimeout(() => {
        this.log.warn({ peerId: this.id }, 'no answer to offer');
        this.hooks.onTransportLost(this, 'no answer');
      }, Math.max(15000, this.transport.timeoutMs));
    } catch (err) {
      this.negotiating = false;
      this.log.error({ err, peerId: this.id }, 'offer failed');
      this.hooks.onTransportLost(this, 'offer failed');
    }
  }

  async handleAnswer(sdp: string): Promise<void> {
    if (!this.pc || !this.negotiating) return;
    if (this.answerTimer) clearTimeout(this.answerTimer);
    this.answerTimer = null;
    try {
      await this.pc.setRemoteDescription({ type: 'answer', sdp });
    } catch (err) {
      this.log.error({ err, peerId: this.id }, 'bad answer');
      this.negotiating = false;
      this.hooks.onTransportLost(this, 'bad answer');
      return;
    }
    this.negotiating = false;
    // A reused m-line keeps the page's SSRC, so werift announces no new track for it: take the one it has (a
    // simulcast m-line: one per layer).
    for (const pub of this.publications.values()) {
      if (pub.ended || pub.forwarder || pub.transceiver.currentDirection !== 'recvonly') continue;
      const tracks = pub.rids.length ? pub.transceiver.receiver.tracks : pub.transceiver.receiver.tracks.slice(-1);
      for (const track of tracks) this.hooks.onRemoteTrack(this, pub, track);
    }
    this.hooks.onNegotiated(this);
    if (this.renegotiate) await this.negotiate();
  }

  async addCandidate(candidate: { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null }): Promise<void> {
    if (!this.pc || !candidate.candidate) return;
    try {
      await this.pc.addIceCandidate({ candidate: candidate.candidate, sdpMid: candidate.sdpMid ?? undefined, sdpMLineIndex: candidate.sdpMLineIndex ?? undefined });
    } catch (err) {
      // mDNS (.local) candidates and late candidates for an old generation are expected; ICE goes on without them
      this.log.debug({ err, peerId: this.id }, 'candidate ignored');
    }
  }

  /** The page lost its media path: the next offer carries new ICE credentials, and goes now (or after the one out). */
  async restartIce(): Promise<void> {
    if (!this.pc || this.closed) return;
    this.iceRestartWanted = true;
    this.iceRestarts++;
    this.log.info({ peerId: this.id, restarts: this.iceRestarts }, 'ICE restart asked by the page');
    await this.negotiate();
  }

  /**
   * Loss recovery on this peer's connection so far: packets the SFU sent again at the page's NACKs (its
   * subscriptions), and NACKs it sent the page for packets lost on the way in (its publications, video).
   */
  lossRecovery(): LossRecovery {
    if (!this.pc) return this.finalLossRecovery;
    const out = { retransmitted: 0, nacksSent: 0 };
    for (const t of this.pc.getTransceivers()) {
      const sender = t.sender as unknown as WeriftSenderCounts;
      const receiver = t.receiver as unknown as WeriftReceiverCounts;
      out.retransmitted += sender.retransmittedPacketsSent ?? 0;
      for (const n of Object.values(receiver.nackCountBySsrc ?? {})) out.nacksSent += n;
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.finalLossRecovery = this.lossRecovery();
    this.closed = true;
    if (this.answerTimer) clearTimeout(this.answerTimer);
    if (this.disconnectedTimer) clearTimeout(this.disconnectedTimer);
    for (const p of this.publications.values()) p.forwarder?.stop();
    const pc = this.pc;
    this.pc = null;
    if (pc) await pc.close().catch(() => undefined);
  }
}
