// Sender reports for forwarded tracks: each subscriber's RTCP SR carries the publisher's own NTP↔RTP mapping
// (from the publisher's last SR, RTP time moved by the sender's timestamp offset), so a subscriber's audio and
// video of one peer map onto one clock and the browser can lip-sync them. werift would otherwise report
// "NTP = when the SFU forwarded the last packet", with an NTP fraction it gets wrong (whole seconds only).
import type { RTCRtpSender } from 'werift';

export interface NtpRtpMapping {
  /** 64-bit NTP timestamp (seconds << 32 | fraction) */
  ntp: bigint;
  rtp: number;
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
export function relayPublisherClock(sender: RTCRtpSender, publisherMapping: () => NtpRtpMapping | null): void {
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
