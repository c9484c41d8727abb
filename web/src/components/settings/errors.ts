import { ApiError } from '../../api';

/** A failed write split into messages for named fields and what is left for the form. */
export interface PlacedErrors {
  fields: Record<string, string>;
  general: Error | null;
}

export const NO_ERRORS: PlacedErrors = { fields: {}, general: null };

/**
 * Place the server's answer to a write on the fields it names.
 *
 * `match` gets each message (FastAPI's validation items one by one, with their `loc`
 * without "body"; a string detail split on "; ") and returns the field it concerns, or
 * null. What no field claims stays a general error, with the server's own words.
 */
export function placeErrors(
  error: unknown,
  match: (message: string, loc: string[] | null) => string | null,
): PlacedErrors {
  const asError = error instanceof Error ? error : new Error(String(error));
  if (!(error instanceof ApiError) || ![400, 404, 409, 422].includes(error.status)) {
    return { fields: {}, general: asError };
  }
  const detail = (error.body as { detail?: unknown } | null)?.detail;
  const parts: Array<{ message: string; loc: string[] | null }> = [];
  if (Array.isArray(detail)) {
    for (const item of detail) {
      if (item && typeof item === 'object' && 'msg' in item) {
        const { msg, loc } = item as { msg: unknown; loc?: unknown };
        const path = Array.isArray(loc) ? loc.map(String).filter((p) => p !== 'body') : null;
        parts.push({ message: String(msg), loc: path });
      }
    }
  } else if (typeof detail === 'string') {
    for (const piece of detail.split(/;\s+(?=config\.)/)) parts.push({ message: piece, loc: null });
  }
  if (parts.length === 0) return { fields: {}, general: asError };
  const fields: Record<string, string> = {};
  const rest: string[] = [];
  for (const part of parts) {
    const field = match(part.message, part.loc);
    if (field) {
      fields[field] = fields[field] ? `${fields[field]}; ${part.message}` : part.message;
    } else {
      rest.push(part.loc && part.loc.length ? `${part.loc.join('.')}: ${part.message}` : part.message);
    }
  }
  if (rest.length === 0) return { fields, general: null };
  if (Object.keys(fields).length === 0) return { fields, general: asError };
  return { fields, general: new ApiError(error.status, rest.join('; '), error.body) };
}

/** The first matching field for a message by keyword, e.g. [['password', /password/i]]. */
export function byKeyword(rules: Array<[string, RegExp]>) {
  return (message: string, loc: string[] | null): string | null => {
    if (loc && loc.length) {
      const named = rules.find(([field]) => field === loc[0]);
      if (named) return named[0];
    }
    for (const [field, pattern] of rules) if (pattern.test(message)) return field;
    return null;
  };
}
