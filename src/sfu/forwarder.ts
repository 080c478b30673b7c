// One published track → every subscribed peer: RTP packets are copied as they come, never transcoded.
// A simulcast camera arrives as several layers (one RTP stream each, simulcast.ts): each subscriber gets one,
// chosen from the size it shows the track at and its link's estimate, and changes layer only at a keyframe of
// the new one, numbered on from the old (no jump back, no glitch).
// Keyframes: Chrome sends none on its own, so a subscriber joining or switching layers, a subscriber's own
// PLI/FIR, and (while a hidden recorder watches) a 2 s timer each ask the publisher for one, per layer.
// Requests are coalesced per layer.
// Sender reports: every sink reports its layer's NTP↔RTP mapping from the publisher (see senderReports.ts).
import { RtcpSrPacket, type MediaStreamTrack, type RTCRtpReceiver, type RTCRtpSender, type RtcpPacket, type RtpPacket } from 'werift';
import type { Logger } from '../logger.js';
import { relayPublisherClock, sendSenderReport, type PublisherClock } from './senderReports.js';
import { chooseLayer, vp8KeyframeStart, type LayerState } from './simulcast.js';

export type TrackKind = 'camera' | 'screen' | 'audio';

const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';
/** at most one PLI per layer in this many ms; a request inside the window is sent when it ends */
const PLI_MIN_INTERVAL_MS = 500;
/** while a recorder/encoder consumes the track it needs regular keyframes (segment boundaries, late joins) */
const RECORDER_PLI_INTERVAL_MS = 2000;
/** audio level (0 = loudest … 127 = silence, -dBov) under which a packet counts as speech */
const SPEAKING_LEVEL = 50;
/** layers' bitrates are measured, and subscribers' layers chosen again, this often */
const LAYER_CHECK_MS = 500;
/** a layer without a packet this long is not being sent (the publisher is short of bandwidth, or muted) */
const LAYER_SILENT_MS = 1500;
/** a layer a subscriber's link could not carry is tried again after this long, doubling up to the max; a layer held this long resets it */
const BACKOFF_MIN_MS = 5000;
const BACKOFF_MAX_MS = 60_000;
const BACKOFF_RESET_MS = 20_000;
/** a subscriber's link short of its layer this long moves it down */
const SHORTAGE_MS = 2000;

/** One RTP stream of the track: the only one, or one simulcast layer (by rid). */
interface Layer {
  rid: string;
  sourced: boolean;
  ssrc: number | null;
  /** from the publisher's last sender report for this stream */
  clock: PublisherClock | null;
  width: number;
  bytes: number;
  bitrate: number;
  lastPacketAt: number;
  lastPliAt: number;
  trailingPli: NodeJS.Timeout | null;
}

interface Sink {
  sender: RTCRtpSender;
  hidden: boolean;
  /** the layer forwarded now; null: waiting for a keyframe of `target` */
  layer: string | null;
  target: string | null;
  /** how wide the subscriber shows the track (device pixels); null: not told */
  wantedWidth: number | null;
  /** its share of its link's estimate, bit/s; null: none known */
  budget: number | null;
  /** layers its link could not carry, not tried again before (performance.now() ms); the wait doubles each time */
  blocked: Map<string, number>;
  backoffMs: number;
  /** the estimate when a layer above what fits was tried (see chooseLayer) */
  floor: number | null;
  layerSince: number;
  /** since when its link's share has been short of its layer (performance.now() ms); null: it is not */
  shortSince: number | null;
  /** the sender carried another track before (a reused m-line): its numbering continues from where that stopped */
  continueNumbering: boolean;
  lastSentAt: number;
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
  /** subscribers moved from one simulcast layer to another */
  layerSwitches: number;
  /** simulcast layers the publisher stopped sending for a while */
  layerPauses: number;
}

export class Forwarder {
  private readonly sinks = new Map<string, Sink>();
  /** smallest first (simulcast.ts's order); one with rid '' for a track sent as one stream */
  private readonly layers: Layer[] = [];
  private readonly unsubscribe: Array<() => void> = [];
  private recorderTimer: NodeJS.Timeout | null = null;
  private layerTimer: NodeJS.Timeout | null = null;
  /** each layer live at the last check */
  private wasLive: boolean[] = [];
  private stopped = false;
  /** last time a packet carried a speech-level audio level, and that level */
  lastLoudAt = 0;
  lastLoudLevel = 127;
  readonly stats: ForwarderStats = { packets: 0, bytes: 0, sinks: 0, plis: 0, layerSwitches: 0, layerPauses: 0 };

  /** `rids`: the simulcast layers the publisher was offered, smallest first; none: one stream */
  constructor(
    readonly trackId: string,
    readonly kind: TrackKind,
    readonly publisherId: string,
    private readonly receiver: RTCRtpReceiver,
    private readonly log: Logger,
    rids: readonly string[] = [],
  ) {
    for (const rid of rids.length ? rids : ['']) {
      this.layers.push({ rid, sourced: false, ssrc: null, clock: null, width: 0, bytes: 0, bitrate: 0, lastPacketAt: 0, lastPliAt: 0, trailingPli: null });
    }
    if (this.simulcast) this.layerTimer = setInterval(() => this.checkLayers(), LAYER_CHECK_MS);
    // sender reports of every layer, by SSRC (werift routes a simulcast stream's SRs to no track)
    const transport = receiver.dtlsTransport;
    if (transport) this.unsubscribe.push(transport.onRtcp.subscribe((packet: RtcpPacket) => this.onRtcp(packet)).unSubscribe);
  }

  get simulcast(): boolean {
    return this.layers.length > 1;
  }

  /** The publisher's RTP stream (a layer: its rid) arrived: its packets are forwarded from now on. */
  addSource(track: MediaStreamTrack): void {
    const layer = this.layers.find((l) => l.rid === (track.rid ?? '')) ?? (this.simulcast ? undefined : this.layers[0]);
    // one source per layer: the first (a track announced again, on a reused m-line, is the same stream)
    if (!layer || layer.sourced || this.stopped) return;
    layer.sourced = true;
    this.unsubscribe.push(track.onReceiveRtp.subscribe((rtp, ext) => this.onRtp(layer, rtp, ext as Record<string, unknown> | undefined)).unSubscribe);
  }

  private onRtcp(packet: RtcpPacket): void {
    if (packet.type !== RtcpSrPacket.type) return;
    const sr = packet as RtcpSrPacket;
    const layer = this.layers.find((l) => l.ssrc === sr.ssrc);
    if (!layer) return;
    const info = sr.senderInfo;
    layer.clock = { ntp: BigInt(info.ntpTimestamp), rtp: info.rtpTimestamp, receivedAtMs: performance.now(), clockRate: RTP_CLOCK_RATE[this.kind] };
  }

  private onRtp(layer: Layer, rtp: RtpPacket, ext: Record<string, unknown> | undefined): void {
    if (this.stopped) return;
    if (this.kind === 'audio' && ext) {
      const level = ext[AUDIO_LEVEL_URI] as { level?: number } | undefined;
      if (level && typeof level.level === 'number' && level.level < SPEAKING_LEVEL) {
        this.lastLoudAt = Date.now();
        this.lastLoudLevel = level.level;
      }
    }
    layer.ssrc = rtp.header.ssrc;
    // padding-only packets are the publisher's bandwidth probes: nothing to forward
    if (rtp.payload.length === 0) return;
    layer.lastPacketAt = performance.now();
    layer.bytes += rtp.payload.length;
    const keyframe = this.kind === 'audio' ? null : vp8KeyframeStart(rtp.payload);
    if (keyframe) layer.width = keyframe.width;
    if (this.sinks.size === 0) return;
    // The publisher's header extensions use its own ids; each sender writes the ones it negotiated.
    rtp.header.extensions = [];
    rtp.header.extension = false;
    rtp.header.padding = false;
    let buf: Buffer | null = null;
    // A Buffer, not the packet: werift's sender rewrites ssrc/pt/seq in place, so each needs its own copy.
    for (const sink of this.sinks.values()) {
      if (sink.layer !== layer.rid) {
        // a subscriber changes layers (or starts one) at the new layer's keyframe
        if (sink.target !== layer.rid || !keyframe) continue;
        if (sink.layer !== null) {
          this.continueNumbering(sink.sender, rtp.header.sequenceNumber, rtp.header.timestamp, this.ticksSince(sink.lastSentAt));
          this.stats.layerSwitches++;
        }
        sink.layer = layer.rid;
        sink.layerSince = performance.now();
      }
      if (sink.continueNumbering) {
        sink.continueNumbering = false;
        this.continueNumbering(sink.sender, rtp.header.sequenceNumber, rtp.header.timestamp, STEP_TICKS[this.kind]);
      }
      if (!buf) {
        buf = rtp.serialize();
        this.stats.packets++;
        this.stats.bytes += buf.length;
      }
      sink.lastSentAt = performance.now();
      sink.sender.sendRtp(buf).catch(() => undefined);
      if (sink.earlyReports > 0 && layer.clock) this.sendEarlyReport(sink);
    }
  }

  /** RTP ticks of the wall time since `atMs` (performance.now()), at least one */
  private ticksSince(atMs: number): number {
    return Math.max(1, Math.round(((performance.now() - atMs) * RTP_CLOCK_RATE[this.kind]) / 1000));
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
   * Makes a sender go on from what it sent last with the next sequence number and a timestamp `step` ticks
   * later: the subscriber's receiver sees one continuous stream on the same SSRC, not a jump back.
   */
  private continueNumbering(sender: RTCRtpSender, seq: number, ts: number, step: number): void {
    const n = sender as unknown as SenderNumbering;
    if (n.sequenceNumber === undefined || n.timestamp === undefined) return;
    n.seqOffset = (n.sequenceNumber + 1 - seq) & 0xffff;
    n.timestampOffset = (n.timestamp + step - ts) >>> 0;
  }

  addSink(subscriberId: string, sender: RTCRtpSender, hidden: boolean, reused = false): void {
    // (a subscriber's own keyframe requests reach requestKeyframe through its Peer, see Peer.watchRtcp)
    const sink: Sink = {
      sender,
      hidden,
      layer: this.simulcast ? null : '',
      target: this.simulcast ? null : '',
      wantedWidth: null,
      budget: null,
      blocked: new Map(),
      backoffMs: BACKOFF_MIN_MS,
      floor: null,
      layerSince: performance.now(),
      shortSince: null,
      continueNumbering: reused,
      lastSentAt: performance.now(),
      earlyReports: EARLY_REPORTS,
      nextReportAt: 0,
    };
    this.sinks.set(subscriberId, sink);
    relayPublisherClock(sender, () => this.layers.find((l) => l.rid === sink.layer)?.clock ?? null);
    this.stats.sinks = this.sinks.size;
    this.retarget(sink);
    this.updateRecorderTimer();
  }

  removeSink(subscriberId: string): void {
    if (!this.sinks.delete(subscriberId)) return;
    this.stats.sinks = this.sinks.size;
    this.updateRecorderTimer();
  }

  /** How wide a subscriber shows this track (device pixels), and its share of its link (bit/s): its layer follows. */
  setView(subscriberId: string, view: { wantedWidth?: number | null; budget?: number | null }): void {
    const sink = this.sinks.get(subscriberId);
    if (!sink) return;
    if (view.wantedWidth !== undefined) sink.wantedWidth = view.wantedWidth;
    if (view.budget !== undefined) sink.budget = view.budget;
    this.retarget(sink);
  }

  /** The layer a subscriber is sent now ('' for a track of one stream), and the one it waits to change to. */
  layerOf(subscriberId: string): { layer: string | null; target: string | null; width: number } | null {
    const sink = this.sinks.get(subscriberId);
    if (!sink) return null;
    return { layer: sink.layer, target: sink.target, width: this.layers.find((l) => l.rid === sink.layer)?.width ?? 0 };
  }

  private layerStates(): LayerState[] {
    const now = performance.now();
    return this.layers.map((l) => ({ rid: l.rid, width: l.width, bitrate: l.bitrate, live: now - l.lastPacketAt < LAYER_SILENT_MS }));
  }

  /** Chooses the sink's layer again; a new one is asked for a keyframe (the switch happens there). */
  private retarget(sink: Sink, states = this.layerStates()): void {
    if (!this.simulcast) return;
    const now = performance.now();
    // a layer held a while: the link carries it, the next failure waits the shortest again
    if (now - sink.layerSince > BACKOFF_RESET_MS) sink.backoffMs = BACKOFF_MIN_MS;
    const blocked = new Set([...sink.blocked].filter(([, until]) => until > now).map(([rid]) => rid));
    let target = chooseLayer(states, sink.wantedWidth, { budget: sink.budget, current: sink.layer, blocked, floor: sink.floor });
    const rank = (rid: string | null) => this.layers.findIndex((l) => l.rid === rid);
    const bitrate = (rid: string | null) => this.layers[rank(rid)]?.bitrate ?? 0;
    if (target !== null && sink.layer !== null && sink.budget !== null) {
      const forLink = rank(target) < rank(sink.layer) && rank(chooseLayer(states, sink.wantedWidth)) >= rank(sink.layer);
      sink.shortSince = forLink ? (sink.shortSince ?? now) : null;
      // a receiver's estimate dips for a moment on a busy machine: only a shortage that lasts moves it down
      if (forLink && now - sink.shortSince! < SHORTAGE_MS) target = sink.layer;
      if (rank(target) > rank(sink.layer) && bitrate(target) > sink.budget) sink.floor = sink.budget;
      else if (forLink && target !== sink.layer) {
        // down for the link, not the tile: that layer waits before it is tried again
        sink.blocked.set(sink.layer, now + sink.backoffMs);
        sink.backoffMs = Math.min(BACKOFF_MAX_MS, sink.backoffMs * 2);
        sink.floor = null;
      } else if (bitrate(sink.layer) <= sink.budget) sink.floor = null;
    }
    // nothing arrives yet: the widest, once it comes
    sink.target = target ?? sink.target ?? this.layers.at(-1)!.rid;
    if (sink.target !== sink.layer) this.requestLayerKeyframe(this.layers.find((l) => l.rid === sink.target)!);
  }

  private checkLayers(): void {
    for (const l of this.layers) {
      // smoothed: a keyframe's burst is no change of rate
      l.bitrate = 0.5 * l.bitrate + 0.5 * ((l.bytes * 8 * 1000) / LAYER_CHECK_MS);
      l.bytes = 0;
    }
    const states = this.layerStates();
    this.stats.layerPauses += states.filter((l, i) => this.wasLive[i] && !l.live).length;
    this.wasLive = states.map((l) => l.live);
    for (const sink of this.sinks.values()) this.retarget(sink, states);
  }

  /**
   * Asks the publisher for a keyframe (video only) of the layers subscribers are on or moving to; of one
   * subscriber's, when it asks.
   */
  requestKeyframe(subscriberId?: string): void {
    if (this.kind === 'audio' || this.stopped) return;
    const sinks = subscriberId === undefined ? [...this.sinks.values()] : [this.sinks.get(subscriberId)].filter((s) => s !== undefined);
    const rids = new Set(sinks.flatMap((s) => [s.layer, s.target]));
    for (const l of this.layers) if (rids.has(l.rid) || (!this.simulcast && subscriberId === undefined)) this.requestLayerKeyframe(l);
  }

  /** at most once per PLI_MIN_INTERVAL_MS per layer */
  private requestLayerKeyframe(layer: Layer): void {
    if (this.kind === 'audio' || this.stopped) return;
    const wait = layer.lastPliAt + PLI_MIN_INTERVAL_MS - Date.now();
    if (wait > 0) {
      layer.trailingPli ??= setTimeout(() => {
        layer.trailingPli = null;
        this.requestLayerKeyframe(layer);
      }, wait);
      return;
    }
    if (layer.ssrc === null) return;
    layer.lastPliAt = Date.now();
    this.stats.plis++;
    this.receiver.sendRtcpPLI(layer.ssrc).catch((err: unknown) => this.log.debug({ err, trackId: this.trackId }, 'PLI failed'));
  }

  private updateRecorderTimer(): void {
    const hidden = () => [...this.sinks.values()].filter((s) => s.hidden);
    const wanted = this.kind !== 'audio' && hidden().length > 0;
    if (wanted && !this.recorderTimer) {
      this.recorderTimer = setInterval(() => {
        const rids = new Set(hidden().map((s) => s.layer ?? s.target));
        for (const l of this.layers) if (rids.has(l.rid)) this.requestLayerKeyframe(l);
      }, RECORDER_PLI_INTERVAL_MS);
    } else if (!wanted && this.recorderTimer) {
      clearInterval(this.recorderTimer);
      this.recorderTimer = null;
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const u of this.unsubscribe.splice(0)) u();
    for (const id of [...this.sinks.keys()]) this.removeSink(id);
    for (const l of this.layers) if (l.trailingPli) clearTimeout(l.trailingPli);
    if (this.recorderTimer) clearInterval(this.recorderTimer);
    if (this.layerTimer) clearInterval(this.layerTimer);
  }
}
