/**
 * The ERROR frame for any failure (channels.md §1): `message`, `status` (the HTTP status),
 * `receipt-id` and `subscription` when they apply, and the OperationOutcome as body. Anything that
 * is not a HubError or a protocol error is a 500 that says nothing about its cause (HUB-SEC-09).
 */
import { HubError, isHubError } from '../protocol/index.js';
import { StompProtocolError, type StompFrame } from './frame.js';

/** An ERROR frame, and whether the failure was a frame over the size limit. */
export interface ErrorAnswer {
  frame: StompFrame;
  reason: string;
  tooLarge: boolean;
}

/** Builds the ERROR for `error`; `onInternal` hears of failures that are not the client's fault. */
export function errorAnswer(error: unknown, extra: { receipt?: string; subscription?: string }, onInternal?: (error: unknown) => void): ErrorAnswer {
  const tooLarge = error instanceof StompProtocolError && error.tooLarge;
  let hubError: HubError;
  if (isHubError(error)) hubError = error;
  else if (error instanceof StompProtocolError) hubError = new HubError(tooLarge ? 413 : 400, tooLarge ? 'too-long' : 'structure', error.message);
  else {
    onInternal?.(error);
    hubError = new HubError(500, 'exception', 'the hub failed to process this frame; it keeps serving');
  }
  const headers: Array<[string, string]> = [
    ['message', hubError.message],
    ['status', String(hubError.status)],
    ['content-type', 'application/fhir+json'],
  ];
  if (extra.receipt !== undefined) headers.push(['receipt-id', extra.receipt]);
  if (extra.subscription !== undefined) headers.push(['subscription', extra.subscription]);
  return { frame: { command: 'ERROR', headers, body: JSON.stringify(hubError.outcome) }, reason: hubError.message, tooLarge };
}
