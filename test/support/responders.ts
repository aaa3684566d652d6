/**
 * Named answers for the test receiver's `respond` rule: functions from a request to a response, for receivers
 * that must answer like a particular backend (per-entry results, partial success).
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface ResponderAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export type Responder = (body: string, headers: IncomingHttpHeaders) => ResponderAnswer;

export const RESPONDERS: Record<string, Responder> = {
  /** Echoes the number of body lines, for tests of the mechanism itself. */
  'count-lines': (body) => ({ status: 200, body: JSON.stringify({ lines: body.split('\n').filter(Boolean).length }) }),
};
