// The signature in this server's own signed URLs (local assets, room-vod playlists): an HMAC over what the
// URL gives access to and its expiry. Each kind of URL derives a key of its own from the app secret, so a
// signature says nothing about the secret or about the other kind's signatures.
import { createHmac, timingSafeEqual } from 'node:crypto';

export class UrlSignature {
  private readonly key: Buffer;

  /** `purpose` names the kind of URL; it is what makes the key differ from the other kinds'. */
  constructor(appSecret: string, purpose: string) {
    this.key = createHmac('sha256', appSecret).update(purpose).digest();
  }

  /** The signature granting `subject` until `expires` (epoch seconds). */
  sign(subject: string, expires: number): string {
    return createHmac('sha256', this.key).update(`${subject}\n${expires}`).digest('base64url');
  }

  /** Why `sig` does not grant `subject` now, or null when it does. The caller has checked `expires` is digits. */
  refusal(subject: string, expires: string, sig: string, nowMs: number): string | null {
    const want = Buffer.from(this.sign(subject, Number(expires)));
    const got = Buffer.from(sig);
    // compared in constant time: a timing difference would tell an attacker how much of a guess is right
    if (want.length !== got.length || !timingSafeEqual(want, got)) return 'signature does not match';
    if (Number(expires) * 1000 < nowMs) return 'URL expired';
    return null;
  }
}
