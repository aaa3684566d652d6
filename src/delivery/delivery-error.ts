/**
 * A delivery failure as plain data (structured-cloneable: it crosses from a worker thread), from which a
 * {@link DeliveryError} is made on the application's side.
 */
export interface DeliveryFailure {
  /** See {@link DeliveryError.code}. */
  readonly code: string;
  /** See {@link DeliveryError.statusCode}. */
  readonly statusCode?: number | undefined;
  /** See {@link DeliveryError.url}. */
  readonly url: string;
  /** See {@link DeliveryError.entries}. */
  readonly entries: number;
  /** A short, secret-free description (an error code or `HTTP 503 Service Unavailable`). */
  readonly reason: string;
  /** See {@link DeliveryError.detail}. */
  readonly detail?: string | undefined;
}

/** Why a request did not deliver its entries. Built from safe parts only: never from a request's options. */
export class DeliveryError extends Error {
  /** Always `'DeliveryError'`. */
  override readonly name = 'DeliveryError';
  /** `ECONNREFUSED`, `ETIMEDOUT`, … for network errors; `HTTP_<status>` for a non-2xx answer; `REJECTED` when the server refused some entries of a 2xx answer. */
  readonly code: string;
  /** The HTTP status, when the server answered. */
  readonly statusCode: number | undefined;
  /** The server URL without user info or query string. */
  readonly url: string;
  /** How many entries the failed request carried. */
  readonly entries: number;
  /**
   * What the server said about it, when it said something (the message of its error body, at most 200 characters,
   * with anything the request carried as a credential masked as `[redacted]`). Also at the end of `message`.
   */
  readonly detail: string | undefined;

  readonly #failure: DeliveryFailure;

  /** @param fields - the properties above, plus `reason`: a short, secret-free description (an error code or `HTTP 503 Service Unavailable`). */
  constructor(fields: DeliveryFailure) {
    super(`failed to send log entry to ${fields.url}: ${fields.reason}`);
    this.#failure = { ...fields };
    this.code = fields.code;
    this.statusCode = fields.statusCode;
    this.url = fields.url;
    this.entries = fields.entries;
    this.detail = fields.detail;
  }

  /**
   * The failure as plain data: `new DeliveryError(error.toFailure())` is an equal error.
   * @internal
   */
  toFailure(): DeliveryFailure {
    return this.#failure;
  }
}
