// Simulcast: a camera is published in three layers (VP8, one RTP stream per `rid`), and each subscriber gets
// the one layer that fits what it shows and what its link carries. Here: the layers' names, where a layer's
// keyframe starts (a subscriber switches layers only there) and how big it is, and the choice of a layer.
/**
 * A camera's layers, smallest first: the rid's first letter, the page's scale-down for it, and its share of
 * the role's camera bitrate (the full layer gets the role's; the m-line's cap is their sum, or Chrome never
 * sends the full one).
 */
export const CAMERA_LAYERS = [
  { name: 'q', scaleDownBy: 4, bitrateShare: 0.1 },
  { name: 'h', scaleDownBy: 2, bitrateShare: 0.3 },
  { name: 'f', scaleDownBy: 1, bitrateShare: 1 },
] as const;

export const SIMULCAST_BITRATE_SHARE = CAMERA_LAYERS.reduce((sum, l) => sum + l.bitrateShare, 0);

/**
 * The rids of the `n`th simulcast m-line of a connection: werift routes RTP by rid across the whole
 * connection, so two cameras' layers must not share one (Chrome takes alphanumeric rids only).
 */
export function cameraRids(n: number): string[] {
  return CAMERA_LAYERS.map((l) => `${l.name}${n}`);
}

/**
 * The size a VP8 keyframe starts with, when `payload` (an RTP payload, RFC 7741) is a keyframe's first packet.
 * Read here byte by byte: it runs on every video packet, and werift's parser throws on some malformed ones.
 */
export function vp8KeyframeStart(payload: Buffer): { width: number; height: number } | null {
  // S (start of a partition) and partition 0: only then does a VP8 payload header follow the descriptor
  if (payload.length < 1 || (payload[0] & 0x10) === 0 || (payload[0] & 0x07) !== 0) return null;
  let at = 1;
  if (payload[0] & 0x80) {
    const x = payload[1] ?? 0;
    at = 2;
    if (x & 0x80) at += (payload[at] ?? 0) & 0x80 ? 2 : 1; // picture id, 7 or 15 bits
    if (x & 0x40) at += 1; // TL0PICIDX
    if (x & 0x30) at += 1; // TID/KEYIDX
  }
  // payload header: P bit 0 is a keyframe; then start code 9d 01 2a and 14-bit width and height
  if (payload.length < at + 10 || (payload[at] & 0x01) !== 0) return null;
  if (payload[at + 3] !== 0x9d || payload[at + 4] !== 0x01 || payload[at + 5] !== 0x2a) return null;
  return { width: payload.readUInt16LE(at + 6) & 0x3fff, height: payload.readUInt16LE(at + 8) & 0x3fff };
}

/** What a forwarder knows of one layer as it arrives. */
export interface LayerState {
  rid: string;
  /** from its last keyframe; 0 before the first */
  width: number;
  /** bit/s over the last measurement window */
  bitrate: number;
  /** packets arrived lately (a publisher short of bandwidth stops sending its top layers) */
  live: boolean;
}

/** A subscriber's link estimate sits at about 1.5× what reaches it when nothing is congested (Chrome's REMB). */
export const UNCONGESTED_HEADROOM = 1.3;

/** Where a subscriber is, for chooseLayer: its layer now, and layers its link could not carry lately. */
export interface SubscriberLink {
  /** share of its link's estimate, bit/s; null: none known */
  budget: number | null;
  current: string | null;
  blocked: ReadonlySet<string>;
  /** the estimate when the current layer was tried above it: kept while the estimate stays near that */
  floor: number | null;
}

/**
 * The layer a subscriber gets: the smallest live one at least as wide as the tile it is shown in (a little
 * narrower still passes: a 0.85 scale-up looks the same), the widest if none is; then smaller ones while it
 * would not fit in the subscriber's share of its link. `wantedWidth` null: not told yet, the widest.
 * A receiver's estimate never grows past ~1.5× what it receives, so a layer that does not fit the estimate
 * is still tried one step above the current one while the estimate shows headroom (it is not congested), unless
 * that layer failed lately (`blocked`), and kept while the estimate holds. `layers` are in order, smallest first.
 */
export function chooseLayer(layers: LayerState[], wantedWidth: number | null, link: SubscriberLink = { budget: null, current: null, blocked: new Set(), floor: null }): string | null {
  const live = layers.filter((l) => l.live);
  if (live.length === 0) return null;
  let i = live.length - 1;
  if (wantedWidth !== null) {
    const fits = live.findIndex((l) => l.width > 0 && l.width >= wantedWidth * 0.85);
    if (fits >= 0) i = fits;
  }
  const { budget } = link;
  if (budget === null) return live[i].rid;
  const now = live.findIndex((l) => l.rid === link.current);
  const probe = (j: number) => now >= 0 && j === now + 1 && !link.blocked.has(live[j].rid) && budget >= live[now].bitrate * UNCONGESTED_HEADROOM;
  // a layer being tried stays while the estimate does not fall (it grows towards the new rate meanwhile)
  const trying = (j: number) => j === now && link.floor !== null && budget >= link.floor * 0.9;
  while (i > 0 && live[i].bitrate > budget && !probe(i) && !trying(i)) i--;
  return live[i].rid;
}
