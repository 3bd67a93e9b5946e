// The one way the UI talks to the server: JSON over /api/v1 with a bearer token.

import type { ProblemOut } from "./api-types";

export const API = "/api/v1";

export interface ErrorBody {
  code: string;
  message: string;
  details: unknown;
}

/** A 4xx/5xx answer of the API, in the server's error shape. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;

  constructor(status: number, body: ErrorBody) {
    super(body.message);
    this.status = status;
    this.code = body.code;
    this.details = body.details;
  }

  /** Validation problems (422 answers carry `details: [{path, key, message}]`). */
  get problems(): ProblemOut[] {
    if (!Array.isArray(this.details)) return [];
    return this.details.filter(
      (d): d is ProblemOut =>
        typeof d === "object" && d !== null && "key" in d && "message" in d && "path" in d,
    );
  }

  get isConflict(): boolean {
    return this.status === 409;
  }
}

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "DELETE";
  body?: unknown;
  ifMatch?: string | null;
  signal?: AbortSignal;
}

export class Client {
  constructor(
    private readonly token: string,
    private readonly onUnauthorized: () => void = () => undefined,
  ) {}

  private async send(path: string, options: RequestOptions, accept: string): Promise<Response> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.token}`,
      Accept: accept,
    };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    if (options.ifMatch) headers["If-Match"] = options.ifMatch;
    const response = await fetch(API + path, {
      method: options.method ?? "GET",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
      cache: "no-store",
    });
    if (!response.ok) {
      const error = await errorOf(response);
      if (response.status === 401) this.onUnauthorized();
      throw error;
    }
    return response;
  }

  async json<T>(path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(path, options, "application/json");
    return (await response.json()) as T;
  }

  async text(path: string, options: RequestOptions = {}): Promise<string> {
    const response = await this.send(path, options, "text/plain, */*");
    return response.text();
  }
}

async function errorOf(response: Response): Promise<ApiError> {
  try {
    const body = (await response.json()) as { error?: ErrorBody };
    if (body.error && typeof body.error.message === "string") {
      return new ApiError(response.status, body.error);
    }
  } catch {
    // not JSON: fall through
  }
  return new ApiError(response.status, {
    code: `http_${response.status}`,
    message: `${response.status} ${response.statusText || "error"}`,
    details: null,
  });
}

/** A path segment, escaped. */
export function enc(part: string): string {
  return encodeURIComponent(part);
}
