// Structured JSON logs. Tokens and secrets never reach them: URLs lose sensitive query values and capability
// path segments (HLS keys, VOD signatures, room codes), headers and known secret fields are redacted.
import pino, { type Logger, type LoggerOptions } from 'pino';

const REDACTED = '[redacted]';
const SECRET_QUERY = /([?&](?:auth_token|token|sig|signature|X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|code|key|secret)=)[^&#]*/gi;

// Path segments that are credentials themselves: whoever has the URL can use it.
//   /hls/<stream_id>/<key>/…          live HLS output (the key is the authorisation)
//   /vod/<asset_id>/<expires>/<sig>/… path-signed VOD playlists
//   /meeting/<room_code>              a room code joins the room
const SECRET_PATHS: Array<[RegExp, string]> = [
  [/^(\/hls\/[^/?#]*\/)[^/?#]+/i, `$1${REDACTED}`],
  [/^(\/vod\/[^/?#]*\/[^/?#]*\/)[^/?#]+/i, `$1${REDACTED}`],
  [/^(\/meeting\/)[^/?#]+/i, `$1${REDACTED}`],
];

/** A request URL (path + query, or absolute) with its capability parts replaced by "[redacted]". */
export function redactUrl(url: string): string {
  let origin = '';
  let rest = url;
  const abs = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(url);
  if (abs) {
    origin = abs[0];
    rest = url.slice(origin.length);
  }
  for (const [re, to] of SECRET_PATHS) rest = rest.replace(re, to);
  return origin + rest.replace(SECRET_QUERY, `$1${REDACTED}`);
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'headers.authorization',
        '*.app_secret',
        '*.appSecret',
        '*.secretKey',
        '*.secret',
        '*.token',
        '*.credentials',
      ],
      censor: REDACTED,
    },
    serializers: {
      req: (req: { method?: string; url?: string; id?: string }) => ({
        id: req.id,
        method: req.method,
        url: redactUrl(req.url ?? ''),
      }),
    },
  };
}

export function createLogger(level: string): Logger {
  return pino(loggerOptions(level));
}
export type { Logger };
