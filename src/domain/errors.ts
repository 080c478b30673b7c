// What can go wrong in the domain, in the domain's words: invalid input, not allowed, not found, conflicting
// with the current state. These know nothing of HTTP: only api/errors.ts maps them to statuses.

export type DomainErrorKind = 'InvalidInput' | 'Forbidden' | 'NotFound' | 'Conflict' | 'Unavailable';

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    /** each a sentence naming the field or object concerned */
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = `${kind}Error`;
  }
}

/** The request asks for something that cannot be (a field out of bounds, an unknown destination). */
export const invalidInput = (message: string, ...details: string[]) => new DomainError('InvalidInput', message, details);
/** The object exists but does not allow this (a disabled room). */
export const forbidden = (message: string, ...details: string[]) => new DomainError('Forbidden', message, details);
export const notFound = (what: string, id: string) => new DomainError('NotFound', `${what} not found`, [`${what} ${id} not found`]);
/** Not possible in the object's current state (already running, not paused). */
export const conflict = (message: string, ...details: string[]) => new DomainError('Conflict', message, details);

/** This server cannot do it now, for a reason that may pass (its data disk is full). */
export const unavailable = (message: string, ...details: string[]) => new DomainError('Unavailable', message, details);

export function isConflict(err: unknown): boolean {
  return err instanceof DomainError && err.kind === 'Conflict';
}
