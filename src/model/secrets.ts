// How a stored secret is shown (template storage secrets, room upload secrets, webhook headers): "****" plus at
// most its last 4 characters. The secret itself is kept; only responses are masked.

export const SECRET_MASK = '****';

export function maskSecret(secret: string): string {
  // Short secrets show nothing: 4 visible characters of an 8-character secret is half of it.
  return secret.length >= 12 ? SECRET_MASK + secret.slice(-4) : SECRET_MASK;
}
