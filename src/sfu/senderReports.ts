// Sender reports for forwarded tracks: each subscriber's RTCP SR carries the publisher's own NTP↔RTP mapping
// (from the publisher's last SR, carried forward to the moment of the report, RTP time moved by the sender's
// timestamp offset), so a subscriber's audio and video of one peer map onto one clock and the browser can
// lip-sync them. werift would otherwise report "NTP = when the SFU forwarded the last packet", with an NTP
// fraction it gets wrong (whole seconds only). Carried forward, every SR is a new point on the same line: a
// browser needs two distinct points before it syncs, and a publisher's audio SRs come only every ~5 s
// (measured: a new subscriber synced 9 s after joining when the mapping was repeated as is).
import { RtcpSenderInfo, RtcpSrPacket, type RTCRtpSender, type RtcpPacket } from 'werift';

export interface NtpRtpMapping {
  /** 64-bit NTP timestamp (seconds << 32 | fraction) */
  ntp: bigint;
  rtp: number;
}

/** A publisher's SR as received: its mapping, when it arrived (performance.now() ms) and the RTP clock rate. */
export interface PublisherClock extends NtpRtpMapping {
  receivedAtMs: number;
  clockRate: number;
}

/** The publisher's mapping moved along its own line to `nowMs` (both clocks advance in real time). */
export function carryForward(c: PublisherClock, nowMs = performance.now()): NtpRtpMapping {
  const elapsedMs = Math.max(0, nowMs - c.receivedAtMs);
  return {
    ntp: c.ntp + BigInt(Math.round((elapsedMs / 1000) * 2 ** 32)),
    rtp: (c.rtp + Math.round((elapsedMs * c.clockRate) / 1000)) >>> 0,
  };
}

const NTP_EPOCH_OFFSET_MS = 2_208_988_800_000; // 1900-01-01 → 1970-01-01

/** This machine's wall clock as a 64-bit NTP timestamp, with a correct fraction. */
export function ntpNow(nowMs = performance.timeOrigin + performance.now()): bigint {
  const ms = nowMs + NTP_EPOCH_OFFSET_MS;
  const seconds = Math.floor(ms / 1000);
  const fraction = Math.floor(((ms - seconds * 1000) / 1000) * 2 ** 32);
  return (BigInt(seconds) << 32n) | BigInt(fraction);
}

/** The fields of werift's sender its SR loop reads (private in its typings). */
interface SenderClock {
  ntpTimestamp: bigint;
  rtpTimestamp: number;
  timestampOffset: number;
}

/**
 * Makes `sender`'s SRs report `publisherMapping()` while it has one; until then (the publisher's first SR
 * comes within a second or so), the local clock and the last forwarded RTP timestamp, with a correct fraction.
 */
export function relayPublisherClock(sender: RTCRtpSender, publisherClock: () => PublisherClock | null): void {
  const publisherMapping = () => {
    const c = publisherClock();
    return c ? carryForward(c) : null;
  };
  const s = sender as unknown as SenderClock;
  let localNtp = ntpNow();
  let localRtp = s.rtpTimestamp ?? 0;
  // werift writes both after every packet it sends and reads both when it builds an SR
  Object.defineProperty(sender, 'ntpTimestamp', {
    configurable: true,
    enumerable: true,
    get: () => publisherMapping()?.ntp ?? localNtp,
    set: () => {
      localNtp = ntpNow();
    },
  });
  Object.defineProperty(sender, 'rtpTimestamp', {
    configurable: true,
    enumerable: true,
    get: () => {
      const m = publisherMapping();
      return m ? (m.rtp + (s.timestampOffset ?? 0)) >>> 0 : localRtp;
    },
    set: (v: number) => {
      localRtp = v;
    },
  });
}

/** werift 0.24.4's sender fields an SR is built from, and where it keeps what RTT needs (private in its typings) */
interface SenderRtcp {
  ssrc: number;
  ntpTimestamp: bigint;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  lastSRtimestamp: number;
  lastSentSRTimestamp: number;
  dtlsTransport: { sendRtcp(packets: RtcpPacket[]): Promise<unknown> };
}

/**
 * Sends one SR now, as werift's own loop would (which sends one every 0.5–1.5 s). The forwarder sends a few
 * of these as a subscription starts, so the browser has the two points it needs to lip-sync at once.
 */
export function sendSenderReport(sender: RTCRtpSender): void {
  const s = sender as unknown as SenderRtcp;
  const ntp = s.ntpTimestamp;
  const sr = new RtcpSrPacket({
    ssrc: s.ssrc,
    senderInfo: new RtcpSenderInfo({ ntpTimestamp: ntp, rtpTimestamp: s.rtpTimestamp, packetCount: s.packetCount, octetCount: s.octetCount }),
  });
  // the middle 32 bits: what the subscriber's receiver report echoes as LSR
  s.lastSRtimestamp = Number((ntp >> 16n) & 0xffffffffn);
  s.lastSentSRTimestamp = Date.now() / 1000;
  s.dtlsTransport.sendRtcp([sr]).catch(() => undefined);
}
