// Structured JSON logs. Tokens and secrets never reach them: URLs lose sensitive query values,
// headers and known secret fields are redacted.
import pino, { type Logger, type LoggerOptions } from 'pino';

const SECRET_QUERY = /([?&](?:auth_token|token|sig|signature|X-Amz-Signature|X-Amz-Credential|code)=)[^&]*/gi;

export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY, '$1[redacted]');
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
      censor: '[redacted]',
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
