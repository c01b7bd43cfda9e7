/** Errors a request's client caused: an HTTP status and a message naming the fault (OpenAI's error shape). */
export class ClientError extends Error {
  override name = 'ClientError';
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  get type(): string {
    return this.status === 401 ? 'authentication_error' : this.status === 429 ? 'rate_limit_error' : this.status >= 500 ? 'server_error' : 'invalid_request_error';
  }
}

export const bad = (message: string, param: string | null = null, code: string | null = null) => new ClientError(400, message, param, code);
