/**
 * FHIR OperationOutcome builders and the one error type of tabcast.
 * Every door turns a HubError into its own form (HTTP response, rejected promise) in one place.
 */
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

/** FHIR issue-type codes used by the hub. */
export type IssueCode =
  | 'invalid'
  | 'required'
  | 'structure'
  | 'value'
  | 'not-found'
  | 'conflict'
  | 'too-long'
  | 'not-supported'
  | 'login'
  | 'forbidden'
  | 'processing'
  | 'exception'
  | 'transient';

/** Builds an OperationOutcome with one issue. */
export function operationOutcome(
  severity: OperationOutcomeIssue['severity'],
  code: IssueCode,
  diagnostics: string,
): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code, diagnostics }] };
}

/** An error with an HTTP-like status and the OperationOutcome that explains it. */
export class HubError extends Error {
  readonly status: number;
  readonly outcome: OperationOutcome;

  constructor(status: number, code: IssueCode, diagnostics: string) {
    super(diagnostics);
    this.name = 'HubError';
    this.status = status;
    this.outcome = operationOutcome('error', code, diagnostics);
  }

  /** Rebuilds a HubError from its plain parts (e.g. after a structured clone). */
  static from(status: number, outcome: OperationOutcome): HubError {
    const issue = outcome.issue?.[0];
    const err = new HubError(status, (issue?.code as IssueCode) ?? 'processing', issue?.diagnostics ?? `hub error ${status}`);
    (err as { outcome: OperationOutcome }).outcome = outcome;
    return err;
  }
}

/** 400: the request is malformed or violates the event definition. */
export const badRequest = (diagnostics: string, code: IssueCode = 'invalid') => new HubError(400, code, diagnostics);
/** 401: missing or wrong credentials. */
export const unauthorized = (diagnostics: string) => new HubError(401, 'login', diagnostics);
/** 403: authenticated but not allowed. */
export const forbidden = (diagnostics: string) => new HubError(403, 'forbidden', diagnostics);
/** 404: the named topic, endpoint or anchor does not exist. */
export const notFound = (diagnostics: string) => new HubError(404, 'not-found', diagnostics);
/** 409: a content-sharing version conflict. */
export const conflict = (diagnostics: string) => new HubError(409, 'conflict', diagnostics);
/** 413: a body or Bundle over the limit. */
export const tooLarge = (diagnostics: string) => new HubError(413, 'too-long', diagnostics);
/** 415: a Content-Type the hub cannot read. */
export const unsupportedMediaType = (diagnostics: string) => new HubError(415, 'not-supported', diagnostics);

/** True for anything shaped like a HubError, also across realms and structured clones. */
export function isHubError(value: unknown): value is HubError {
  return (
    value instanceof HubError ||
    (typeof value === 'object' && value !== null && typeof (value as HubError).status === 'number' &&
      (value as HubError).outcome?.resourceType === 'OperationOutcome')
  );
}
