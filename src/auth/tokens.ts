// Management and app tokens: HS256 JWTs signed with the workspace app secret (reference §1).
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { uuid } from '../clock.js';

/** Seconds of clock difference tolerated on iat/nbf/exp. */
export const CLOCK_SKEW_SECONDS = 10;

export interface TokenKeys {
  accessKey: string;
  appSecret: string;
}

export interface AppTokenClaims {
  room_id: string;
  role: string;
  user_id: string;
}

/** Kinds of recorder jobs a server-minted recorder token may name. */
export type RecorderJobKind = 'recording' | 'live-stream';

/** The claim the server puts in the token it mints for one recorder job (never in a client's token). */
export interface RecorderJobClaim {
  job_id: string;
  job_kind: RecorderJobKind;
}

export interface VerifiedToken {
  type: 'management' | 'app';
  jti: string;
  room_id?: string;
  role?: string;
  user_id?: string;
  /** present on recorder tokens the server minted for a job */
  job?: RecorderJobClaim;
  /** expiry, unix seconds (app tokens) */
  exp?: number;
}

export class TokenError extends Error {
  constructor(
    readonly status: 401 | 403,
    readonly detail: string,
  ) {
    super(detail);
  }
}

const key = (secret: string) => new TextEncoder().encode(secret);

async function sign(keys: TokenKeys, claims: Record<string, unknown>, ttlSeconds: number): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  return new SignJWT({ access_key: keys.accessKey, version: 2, ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setJti(uuid())
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + ttlSeconds)
    .sign(key(keys.appSecret));
}

export function signManagementToken(keys: TokenKeys, ttlSeconds = 86400): Promise<string> {
  return sign(keys, { type: 'management' }, ttlSeconds);
}

export function signAppToken(keys: TokenKeys, claims: AppTokenClaims, ttlSeconds = 86400): Promise<string> {
  return sign(keys, { type: 'app', ...claims }, ttlSeconds);
}

/** Checks signature, algorithm, time claims and the access key; returns the token's kind and claims. */
/** A recorder's app token for one job: it is only needed to join, so it lives `ttlSeconds` (a few minutes). */
export function signRecorderToken(keys: TokenKeys, claims: AppTokenClaims & RecorderJobClaim, ttlSeconds: number): Promise<string> {
  return sign(keys, { type: 'app', ...claims }, ttlSeconds);
}

function jobClaimOf(payload: Record<string, unknown>): RecorderJobClaim | undefined {
  const { job_id: id, job_kind: kind } = payload;
  if (typeof id !== 'string' || (kind !== 'recording' && kind !== 'live-stream')) return undefined;
  return { job_id: id, job_kind: kind };
}

export async function verifyToken(keys: TokenKeys, token: string): Promise<VerifiedToken> {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, key(keys.appSecret), {
      algorithms: ['HS256'],
      clockTolerance: CLOCK_SKEW_SECONDS,
      requiredClaims: ['iat', 'exp', 'jti'],
    }));
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw new TokenError(401, 'token expired');
    if (err instanceof joseErrors.JWTClaimValidationFailed) {
      if (err.claim === 'nbf') throw new TokenError(401, 'token not yet valid');
      throw new TokenError(401, `invalid claim ${err.claim}`);
    }
    if (err instanceof joseErrors.JWSSignatureVerificationFailed) throw new TokenError(401, 'invalid signature');
    throw new TokenError(401, 'malformed token');
  }
  if (payload.access_key !== keys.accessKey) throw new TokenError(401, 'unknown access_key');
  if (payload.version !== 2) throw new TokenError(401, 'unsupported token version');
  if (typeof payload.nbf === 'number' && payload.nbf > Date.now() / 1000 + CLOCK_SKEW_SECONDS) {
    throw new TokenError(401, 'token not yet valid');
  }
  if (payload.type === 'management') return { type: 'management', jti: String(payload.jti) };
  if (payload.type === 'app') {
    if (typeof payload.room_id !== 'string' || typeof payload.role !== 'string') {
      throw new TokenError(401, 'app token without room_id or role');
    }
    return {
      type: 'app',
      jti: String(payload.jti),
      room_id: payload.room_id,
      role: payload.role,
      user_id: typeof payload.user_id === 'string' ? payload.user_id : '',
      job: jobClaimOf(payload),
      exp: Number(payload.exp),
    };
  }
  throw new TokenError(401, 'unknown token type');
}
