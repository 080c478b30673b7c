// One published track → every subscribed peer: RTP packets are copied as they come, never transcoded.
// Keyframes: Chrome sends none on its own, so a subscriber joining, a subscriber's own PLI/FIR, and (while a
// hidden recorder watches) a 2 s timer each ask the publisher for one. Requests are coalesced per track.
// Sender reports: every sink reports the publisher's NTP↔RTP mapping (see senderReports.ts).
import { RtcpSrPacket, type MediaStreamTrack, type RTCRtpReceiver, type RTCRtpSender, type RtcpPacket, type RtpPacket } from 'werift';
import type { Logger } from '../logger.js';
import { relayPublisherClock, sendSenderReport, type PublisherClock } from './senderReports.js';

export type TrackKind = 'camera' | 'screen' | 'audio';

const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';
/** at most one PLI per track in this many ms; a request inside the window is sent when it ends */
const PLI_MIN_INTERVAL_MS = 500;
/** while a recorder/encoder consumes the track it needs regular keyframes (segment boundaries, late joins) */
const RECORDER_PLI_INTERVAL_MS = 2000;
/** audio level (0 = loudest … 127 = silence, -dBov) under which a packet counts as speech */
const SPEAKING_LEVEL = 50;

interface Sink {
  sender: RTCRtpSender;
  hidden: boolean;
  /** the sender carried another track before (a reused m-line): its numbering continues from where that stopped */
  continueNumbering: boolean;
  /** early sender reports still to send, and not before when (performance.now() ms) */
  earlyReports: number;
  nextReportAt: number;
}

/** SRs sent as a subscription's media starts flowing, this far apart (then werift's own, every 0.5–1.5 s) */
const EARLY_REPORTS = 3;
const EARLY_REPORT_GAP_MS = 150;

/** werift 0.24.4's RTCRtpSender numbering state (private in its typings): last values sent, offsets applied */
interface SenderNumbering {
  sequenceNumber?: number;
  timestamp?: number;
  seqOffset: number;
  timestampOffset: number;
}

/** RTP clock ticks of one frame/packet, used as the gap where a reused sender switches sources */
const STEP_TICKS: Record<TrackKind, number> = { audio: 960, camera: 3000, screen: 3000 };
/** RTP clock of the codecs the SFU negotiates (Opus 48 kHz; VP8/H.264 90 kHz) */
const RTP_CLOCK_RATE: Record<TrackKind, number> = { audio: 48000, camera: 90000, screen: 90000 };

export interface ForwarderStats {
  packets: number;
  bytes: number;
  sinks: number;
  plis: number;
}

export class Forwarder {
  private readonly sinks = new Map<string, Sink>();
  private readonly unsubscribeSource: () => void;
  private readonly unsubscribeRtcp: () => void;
  /** from the publisher's last sender report */
  private publisherClock: PublisherClock | null = null;
  private lastPliAt = 0;
  private trailingPli: NodeJS.Timeout | null = null;
  private recorderTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** last time a packet carried a speech-level audio level, and that level */
  lastLoudAt = 0;
  lastLoudLevel = 127;
  readonly stats: ForwarderStats = { packets: 0, bytes: 0, sinks: 0, plis: 0 };

  constructor(
    readonly trackId: string,
    readonly kind: TrackKind,
    readonly publisherId: string,
    private readonly source: MediaStreamTrack,
    private readonly receiver: RTCRtpReceiver,
    private readonly log: Logger,
  ) {
    const sub = source.onReceiveRtp.subscribe((rtp, ext) => this.onRtp(rtp, ext as Record<string, unknown> | undefined));
    this.unsubscribeSource = sub.unSubscribe;
    const rtcp = source.onReceiveRtcp.subscribe((packet: RtcpPacket) => {
      if (packet.type !== RtcpSrPacket.type) return;
      const info = (packet as RtcpSrPacket).senderInfo;
      this.publisherClock = { ntp: BigInt(info.ntpTimestamp), rtp: info.rtpTimestamp, receivedAtMs: performance.now(), clockRate: RTP_CLOCK_RATE[this.kind] };
    });
    this.unsubscribeRtcp = rtcp.unSubscribe;
  }

  private onRtp(rtp: RtpPacket, ext: Record<string, unknown> | undefined): void {
    if (this.stopped) return;
    if (this.kind === 'audio' && ext) {
      const level = ext[AUDIO_LEVEL_URI] as { level?: number } | undefined;
      if (level && typeof level.level === 'number' && level.level < SPEAKING_LEVEL) {
        this.lastLoudAt = Date.now();
        this.lastLoudLevel = level.level;
      }
    }
    // padding-only packets are the publisher's bandwidth probes: nothing to forward
    if (rtp.payload.length === 0 || this.sinks.size === 0) return;
    // The publisher's header extensions use its own ids; each sender writes the ones it negotiated.
    rtp.header.extensions = [];
    rtp.header.extension = false;
    rtp.header.padding = false;
    const buf = rtp.serialize();
    this.stats.packets++;
    this.stats.bytes += buf.length;
    // A Buffer, not the packet: werift's sender rewrites ssrc/pt/seq in place, so each needs its own copy.
    for (const sink of this.sinks.values()) {
      if (sink.continueNumbering) {
        sink.continueNumbering = false;
        this.continueNumbering(sink.sender, rtp.header.sequenceNumber, rtp.header.timestamp);
      }
      sink.sender.sendRtp(buf).catch(() => undefined);
      if (sink.earlyReports > 0 && this.publisherClock) this.sendEarlyReport(sink);
    }
  }

  private sendEarlyReport(sink: Sink): void {
    const now = performance.now();
    if (now < sink.nextReportAt) return;
    sink.earlyReports--;
    sink.nextReportAt = now + EARLY_REPORT_GAP_MS;
    sendSenderReport(sink.sender);
  }

  /**
   * The msid stream id subscribers get this track under: a peer's camera and microphone share one (the
   * browser lip-syncs only tracks of one stream), its screen share has its own.
   */
  get streamId(): string {
    return this.kind === 'screen' ? `${this.publisherId}-screen` : this.publisherId;
  }

  get subscriberIds(): string[] {
    return [...this.sinks.keys()];
  }

  /**
   * Makes a sender that already sent another track go on with the next sequence number and a timestamp one
   * frame later: the subscriber's receiver sees one continuous stream on the same SSRC, not a jump back.
   */
  private continueNumbering(sender: RTCRtpSender, seq: number, ts: number): void {
    const n = sender as unknown as SenderNumbering;
    if (n.sequenceNumber === undefined || n.timestamp === undefined) return;
    n.seqOffset = (n.sequenceNumber + 1 - seq) & 0xffff;
    n.timestampOffset = (n.timestamp + STEP_TICKS[this.kind] - ts) >>> 0;
  }

  addSink(subscriberId: string, sender: RTCRtpSender, hidden: boolean, reused = false): void {
    // (a subscriber's own keyframe requests reach requestKeyframe through its Peer, see Peer.watchRtcp)
    this.sinks.set(subscriberId, { sender, hidden, continueNumbering: reused, earlyReports: EARLY_REPORTS, nextReportAt: 0 });
    relayPublisherClock(sender, () => this.publisherClock);
    this.stats.sinks = this.sinks.size;
    this.updateRecorderTimer();
  }

  removeSink(subscriberId: string): void {
    if (!this.sinks.delete(subscriberId)) return;
    this.stats.sinks = this.sinks.size;
    this.updateRecorderTimer();
  }

  /** Asks the publisher for a keyframe (video only), at most once per PLI_MIN_INTERVAL_MS. */
  requestKeyframe(): void {
    if (this.kind === 'audio' || this.stopped) return;
    const wait = this.lastPliAt + PLI_MIN_INTERVAL_MS - Date.now();
    if (wait > 0) {
      this.trailingPli ??= setTimeout(() => {
        this.trailingPli = null;
        this.requestKeyframe();
      }, wait);
      return;
    }
    this.lastPliAt = Date.now();
    const ssrc = this.source.ssrc;
    if (ssrc === undefined) return;
    this.stats.plis++;
    this.receiver.sendRtcpPLI(ssrc).catch((err: unknown) => this.log.debug({ err, trackId: this.trackId }, 'PLI failed'));
  }

  private updateRecorderTimer(): void {
    const wanted = this.kind !== 'audio' && [...this.sinks.values()].some((s) => s.hidden);
    if (wanted && !this.recorderTimer) {
      this.recorderTimer = setInterval(() => this.requestKeyframe(), RECORDER_PLI_INTERVAL_MS);
    } else if (!wanted && this.recorderTimer) {
      clearInterval(this.recorderTimer);
      this.recorderTimer = null;
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribeSource();
    this.unsubscribeRtcp();
    for (const id of [...this.sinks.keys()]) this.removeSink(id);
    if (this.trailingPli) clearTimeout(this.trailingPli);
    if (this.recorderTimer) clearInterval(this.recorderTimer);
  }
}
