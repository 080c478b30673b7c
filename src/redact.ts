// Takes secrets out of free text before it is stored, logged or sent (error messages of the recorder: a
// Chromium navigation error quotes the whole URL, auth_token included). Rules, all applied: JWT-shaped
// strings, values of secret-named parameters (query, k=v, JSON), long token-looking query values, bearer tokens.

const MARK = '[redacted]';

/** header.payload.signature, base64url: any JWT, whatever surrounds it. */
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
const SECRET_NAME = String.raw`[\w.-]*(?:token|secret|password|passwd|signature|credential|api[_-]?key|access[_-]?key)[\w.-]*`;
/** `name=value` where the name says secret (query strings, form bodies, "k=v" in messages) */
const SECRET_PARAM = new RegExp(String.raw`(\b${SECRET_NAME}=)[^&\s"'<>#;,)]+`, 'gi');
/** short generic names that are secrets in a query string only */
const QUERY_SECRET = /([?&](?:sig|code|key|X-Amz-[A-Za-z-]+)=)[^&\s"'<>#]+/gi;
/** "name": "value" in JSON quoted by a message */
const JSON_SECRET = new RegExp(String.raw`("${SECRET_NAME}"\s*:\s*")[^"]*`, 'gi');
/** any query value of 24+ URL-safe characters: random enough to be a capability */
const LONG_QUERY_VALUE = /([?&][\w.-]+=)[A-Za-z0-9_.~%+/-]{24,}/g;
/** Authorization: Bearer xyz */
const BEARER = /\b(Bearer\s+)[A-Za-z0-9_.~+/=-]+/gi;

/** The text with tokens and secret query values replaced by "[redacted]". */
export function redactSecrets(text: string): string {
  return text
    .replace(JWT, MARK)
    .replace(SECRET_PARAM, `$1${MARK}`)
    .replace(QUERY_SECRET, `$1${MARK}`)
    .replace(JSON_SECRET, `$1${MARK}`)
    .replace(LONG_QUERY_VALUE, `$1${MARK}`)
    .replace(BEARER, `$1${MARK}`);
}

/** redactSecrets for an optional message. */
export function redactOptional<T extends string | null | undefined>(text: T): T {
  return (typeof text === 'string' ? redactSecrets(text) : text) as T;
}

/** An error as a log field ({type, message, stack}) with secrets taken out of its message and stack. */
export function redactedError(err: unknown): { type: string; message: string; stack?: string } {
  if (err instanceof Error) {
    return { type: err.name, message: redactSecrets(err.message), ...(err.stack ? { stack: redactSecrets(err.stack) } : {}) };
  }
  return { type: typeof err, message: redactSecrets(String(err)) };
}
