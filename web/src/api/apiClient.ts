import type { Problem } from './types.ts';

/** A failed API call, carrying the server's problem details (or one made up for network failures). */
export class ApiError extends Error {
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(problem.detail);
    this.name = 'ApiError';
    this.problem = problem;
  }

  get status(): number {
    return this.problem.status;
  }

  /** The problem's code: `urn:eventloom:problem:csrf-failed` → `csrf-failed`. */
  get code(): string {
    return problemCode(this.problem);
  }
}

export const isApiError = (e: unknown): e is ApiError =>
  e instanceof Error && e.name === 'ApiError' && 'problem' in e;

export const problemCode = (problem: Problem): string =>
  problem.type.slice(problem.type.lastIndexOf(':') + 1);

/** Any thrown value as a problem to show. */
export function toProblem(error: unknown): Problem {
  if (isApiError(error)) return error.problem;
  return {
    type: 'urn:eventloom:problem:client-error',
    title: 'Something went wrong in the page',
    status: 0,
    detail: error instanceof Error ? error.message : String(error),
  };
}

export interface ApiResponse<T> {
  data: T;
  status: number;
  /** The resource's version as an ETag (`"3"`), to send back as If-Match. */
  etag: string | undefined;
  /** Global position of the write (X-Eventloom-Position): pass as `min_position` to read it back. */
  position: number | undefined;
}

export type UnsafeMethod = 'POST' | 'PUT' | 'DELETE';

export interface ApiClient {
  get<T>(path: string): Promise<ApiResponse<T>>;
  send<T>(
    method: UnsafeMethod,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiResponse<T>>;
}

export interface ApiClientOptions {
  /** The session's CSRF token, sent as `x-csrf-token` on every unsafe request. */
  csrfToken: () => string | undefined;
  /** Fetches the session anew (after a `csrf-failed`) and answers its token. */
  refreshCsrfToken: () => Promise<string | undefined>;
  /** The session ended on the server (a 401 where a session was expected). */
  onUnauthorized: () => void;
  fetch?: typeof fetch;
}

const NETWORK_PROBLEM = (detail: string): Problem => ({
  type: 'urn:eventloom:problem:network',
  title: 'The server cannot be reached',
  status: 0,
  detail: `${detail}. Check that Eventloom is running, then try again.`,
});

async function problemOf(response: Response): Promise<Problem> {
  const type = response.headers.get('content-type') ?? '';
  if (type.includes('json')) {
    try {
      const body = (await response.json()) as Partial<Problem>;
      if (typeof body.detail === 'string') {
        return {
          type: body.type ?? 'about:blank',
          title: body.title ?? response.statusText,
          status: body.status ?? response.status,
          ...body,
          detail: body.detail,
        };
      }
    } catch {
      // fall through to the generic problem below
    }
  }
  return {
    type: 'about:blank',
    title: response.statusText || 'Request failed',
    status: response.status,
    detail: `The server answered ${response.status} ${response.statusText}`.trim(),
  };
}

/**
 * A small fetch wrapper for the API: same-origin session cookie, JSON bodies, the CSRF token
 * on unsafe requests (fetched anew once if the server refuses it), and every failure as an
 * `ApiError` holding problem details.
 */
export function createApiClient(options: ApiClientOptions): ApiClient {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));

  async function call<T>(
    method: 'GET' | UnsafeMethod,
    path: string,
    body: unknown,
    extraHeaders: Record<string, string>,
    retryCsrf: boolean,
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { accept: 'application/json', ...extraHeaders };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET') {
      const token = options.csrfToken();
      if (token !== undefined) headers['x-csrf-token'] = token;
    }
    let response: Response;
    try {
      response = await doFetch(path, {
        method,
        headers,
        credentials: 'same-origin',
        cache: 'no-store',
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (error) {
      throw new ApiError(NETWORK_PROBLEM(error instanceof Error ? error.message : String(error)));
    }
    if (!response.ok) {
      const problem = await problemOf(response);
      const code = problemCode(problem);
      if (method !== 'GET' && retryCsrf && code === 'csrf-failed') {
        // The session may have been renewed in another tab: fetch its token and try once more.
        const token = await options.refreshCsrfToken();
        if (token !== undefined) return call<T>(method, path, body, extraHeaders, false);
      }
      if (response.status === 401 && code === 'unauthorized') options.onUnauthorized();
      throw new ApiError(problem);
    }
    const position = response.headers.get('x-eventloom-position');
    const text = response.status === 204 ? '' : await response.text();
    return {
      data: (text === '' ? undefined : JSON.parse(text)) as T,
      status: response.status,
      etag: response.headers.get('etag') ?? undefined,
      position: position === null || position === '' ? undefined : Number(position),
    };
  }

  return {
    get: (path) => call('GET', path, undefined, {}, false),
    send: (method, path, body, headers = {}) => call(method, path, body, headers, true),
  };
}
