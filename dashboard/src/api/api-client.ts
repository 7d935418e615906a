import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './openapi.gen';

export type Schemas = components['schemas'];
export type JobView = Schemas['JobView'];
export type JobStatus = JobView['status'];
export type JobEvent = Schemas['JobEvent'];
export type ProblemDetails = Schemas['ProblemDetails'];
export type ApiClient = Client<paths>;

export const JOB_STATUSES: readonly JobStatus[] = [
  'pending',
  'scheduled',
  'processing',
  'completed',
  'failed',
  'cancelled',
  'discarded',
];
const TERMINAL: ReadonlySet<JobStatus> = new Set(['completed', 'failed', 'cancelled', 'discarded']);

export const isTerminal = (status: JobStatus): boolean => TERMINAL.has(status);

/** The API's client for one token: every request carries it, and a 401 signs the person out. */
export function createApiClient(token: string, onUnauthorized: () => void): ApiClient {
  const client = createClient<paths>({ baseUrl: window.location.origin });
  client.use({
    onRequest({ request }) {
      request.headers.set('Authorization', `Bearer ${token}`);
      return request;
    },
    onResponse({ response }) {
      if (response.status === 401) onUnauthorized();
      return response;
    },
  });
  return client;
}

/** What the API answered to a request a person made, to show beside the button they pressed. */
export interface Answer {
  ok: boolean;
  status: number;
  /** The problem's detail, or a word about the success. */
  message: string;
  problem?: ProblemDetails;
}

export function isProblem(value: unknown): value is ProblemDetails {
  return typeof value === 'object' && value !== null && 'code' in value && 'detail' in value;
}

/** An answer from a problem (or a failed request with no body), for display. */
export function problemAnswer(status: number, error: unknown): Answer {
  if (isProblem(error)) return { ok: false, status, message: `${error.code}: ${error.detail}`, problem: error };
  if (error instanceof Error) return { ok: false, status, message: error.message };
  return { ok: false, status, message: `the API answered ${status}` };
}

/** A thrown problem, for the error state of a view. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem?: ProblemDetails,
  ) {
    super(problem ? `${problem.title}: ${problem.detail}` : `the API answered ${status}`);
  }
}

/** The data of an openapi-fetch result, or an ApiError. */
export function dataOf<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data === undefined) {
    throw new ApiError(result.response.status, isProblem(result.error) ? result.error : undefined);
  }
  return result.data;
}
