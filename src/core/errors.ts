// The error taxonomy. Every error Slipway raises on purpose is a SlipwayError with a stable
// `code`; anything else is a bug and is reported as `internal` without its details.
// `httpStatusOf` is the one mapping from code to HTTP status.

export const ERROR_CODES = [
  "invalid_input",
  "unauthenticated",
  "forbidden",
  "not_found",
  "conflict",
  "cannot_transition",
  "payload_too_large",
  "unavailable",
  "internal",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorDetail {
  /** Dotted path of the offending field, e.g. `environments.1.name`, or a YAML line reference. */
  field?: string;
  message: string;
}

export class SlipwayError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetail[];

  constructor(code: ErrorCode, message: string, options: { details?: ErrorDetail[]; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "SlipwayError";
    this.code = code;
    this.details = options.details ?? [];
  }

  toJSON(): { code: ErrorCode; message: string; details: ErrorDetail[] } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export const invalidInput = (message: string, details: ErrorDetail[] = []) => new SlipwayError("invalid_input", message, { details });
export const notFound = (what: string, key: string) => new SlipwayError("not_found", `${what} '${key}' not found`);
export const conflict = (message: string) => new SlipwayError("conflict", message);
export const forbidden = (message: string) => new SlipwayError("forbidden", message);

/** A compare-and-set write found the row in another state than the one it expected. */
export class CannotTransitionError extends SlipwayError {
  constructor(what: string, id: string, expected: string) {
    super("cannot_transition", `${what} ${id} is no longer in state '${expected}'`);
  }
}

export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case "invalid_input":
      return 400;
    case "unauthenticated":
      return 401;
    case "forbidden":
      return 403;
    case "not_found":
      return 404;
    case "conflict":
    case "cannot_transition":
      return 409;
    case "payload_too_large":
      return 413;
    case "unavailable":
      return 503;
    case "internal":
      return 500;
    default:
      return assertNever(code);
  }
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${String(value)}`);
}
