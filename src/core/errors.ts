// Typed errors: each names the values involved and what the administrator should do next.

export type ErrorCode =
  | 'USAGE'
  | 'MISSING_ENV'
  | 'BAD_CONFIG'
  | 'BAD_XENSTORE_VALUE'
  | 'XENSTORE'
  | 'BAD_DOMAIN_NAME'
  | 'BAD_MAC'
  | 'IP_OUTSIDE_SCHEME'
  | 'HOSTNAME_CONFLICT'
  | 'ADDRESS_IN_USE'
  | 'MAC_IN_USE'
  | 'EXHAUSTED'
  | 'FILE_IO'
  | 'LOCK_TIMEOUT'
  | 'LOCK_LOST'
  | 'NETWORK'
  | 'VIFNAME_TAKEN'
  | 'NOT_FOUND'
  | 'BAD_REQUEST'
  | 'INTERNAL'
  | 'POOL_UNAVAILABLE'
  | 'POOL_CONFLICT';

export class VifError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, hint: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'VifError';
    this.code = code;
    this.hint = hint;
    this.details = details;
  }

  /** One line for logs and for xenstore's hotplug-error: what happened, then what to do. */
  oneLine(): string {
    return `${this.message} (${this.hint})`.replace(/[\r\n]+/g, ' ');
  }
}

export function isVifError(err: unknown): err is VifError {
  return err instanceof VifError;
}

/** Render any thrown value as one line, safe for a log or a xenstore node. */
export function describeError(err: unknown): string {
  if (isVifError(err)) return err.oneLine();
  if (err instanceof Error) return err.message.replace(/[\r\n]+/g, ' ');
  return String(err).replace(/[\r\n]+/g, ' ');
}
