/**
 * One error type for every expected failure. Routes throw these; the error middleware turns
 * them into `{ error: { code, message, details? } }` (SPEC §9) with the status here.
 */
export type ErrorCode =
  | 'bad_request'
  | 'invalid_json'
  | 'payload_too_large'
  | 'unauthorized'
  | 'forbidden'
  | 'csrf_failed'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'validation_failed'
  | 'too_many_requests'
  | 'unsupported_media_type';

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  invalid_json: 400,
  payload_too_large: 413,
  unauthorized: 401,
  forbidden: 403,
  csrf_failed: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  validation_failed: 422,
  too_many_requests: 429,
  unsupported_media_type: 415,
};

export interface FieldError {
  field: string;
  message: string;
}

export class AppError extends Error {
  override name = 'AppError';
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: FieldError[] | Record<string, unknown>,
  ) {
    super(message);
    this.status = STATUS[code];
  }
}

export const notFound = (what: string, id?: string | number) =>
  new AppError('not_found', id === undefined ? `${what} not found` : `${what} ${id} not found`);

export const conflict = (message: string, details?: Record<string, unknown>) =>
  new AppError('conflict', message, details);

export const fieldError = (field: string, message: string) =>
  new AppError('validation_failed', `${field}: ${message}`, [{ field, message }]);

export const forbidden = (message = 'You do not have access to this resource') => new AppError('forbidden', message);

export const unauthorized = (message = 'Authentication required') => new AppError('unauthorized', message);
