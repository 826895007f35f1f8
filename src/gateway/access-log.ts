import type { IncomingMessage } from 'node:http';
import type { ThrottleLayer } from '../metrics/contract.js';

/**
 * One access-log line per request, with the fields of an API Gateway access log
 * ($context.requestId, $context.xrayTraceId, $context.identity.sourceIp, ...).
 */
export interface AccessLogRecord {
  requestId: string;
  traceId: string;
  ip: string;
  /** ISO 8601, UTC. */
  requestTime: string;
  requestTimeEpoch: number;
  httpMethod: string;
  /** The route's resource, e.g. /orders. */
  resourcePath: string;
  /** The path the client asked for, stage included. */
  path: string;
  stage: string;
  status: number;
  responseLatency: number;
  /** -1 when no upstream was called. */
  integrationLatency: number;
  apiKeyId: string | null;
  usagePlan: string | null;
  throttled: boolean;
  /** Which layer refused a throttled request (account, method, usagePlan, quota); null when none did. */
  throttleLayer: ThrottleLayer | null;
  errorType: string | null;
  /** The upstream error code behind a 5xx (e.g. ECONNREFUSED, ERR_TLS_CERT_ALTNAME_INVALID). */
  integrationError: string | null;
}

/** The line written to the log stream: one JSON document and a newline. */
export function formatAccessLogLine(record: AccessLogRecord): string {
  return JSON.stringify(record) + '\n';
}

/** The record of a request as it arrives; the gateway fills in the rest as it serves it. */
export function newAccessLogRecord(requestId: string, traceId: string, req: IncomingMessage, epochMs: number, stage: string): AccessLogRecord {
  return {
    requestId,
    traceId,
    ip: req.socket.remoteAddress ?? '',
    requestTime: new Date(epochMs).toISOString(),
    requestTimeEpoch: epochMs,
    httpMethod: req.method ?? 'GET',
    resourcePath: '',
    path: req.url ?? '/',
    stage,
    status: 0,
    responseLatency: 0,
    integrationLatency: -1,
    apiKeyId: null,
    usagePlan: null,
    throttled: false,
    throttleLayer: null,
    errorType: null,
    integrationError: null,
  };
}
