/** Counting requests in the API Gateway access log group (JSON lines, format set in templates/meshgw-stack.yaml). */
import { FilterLogEventsCommand, type CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';

export interface AccessLogSource {
  /** Access-log lines with the given status in [startMs, endMs]. */
  countStatus(status: number, startMs: number, endMs: number): Promise<number>;
  /** The 429 lines in [startMs, endMs], with what says who was refused and why. */
  list429?(startMs: number, endMs: number): Promise<ThrottledLogLine[]>;
}

/** A 429 line of the stage's access log: "throttled" holds $context.error.responseType. */
export interface ThrottledLogLine {
  requestId: string;
  apiKeyId: string | null;
  /** THROTTLED (a bucket: account, method or usage plan; the log does not say which) or QUOTA_EXCEEDED. */
  responseType: string | null;
  requestTimeMs: number;
}

/**
 * Parses one access-log message if it is a 429 (undefined otherwise: the status is checked here too,
 * not only by the filter pattern); API Gateway writes "-" for a variable with no value.
 */
export function parseThrottledLine(message: string): ThrottledLogLine | undefined {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(message) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (String(v.status) !== '429') return undefined;
  const text = (x: unknown) => (typeof x === 'string' && x !== '' && x !== '-' ? x : null);
  const requestId = text(v.requestId);
  const time = Number(v.requestTime);
  if (!requestId || !Number.isFinite(time)) return undefined;
  return { requestId, apiKeyId: text(v.apiKeyId), responseType: text(v.throttled), requestTimeMs: time };
}

/** The stage's access-log format writes status as a string ("status":"$context.status"), hence the quotes. */
export function statusFilterPattern(status: number): string {
  return `{ $.status = "${status}" }`;
}

const MAX_PAGES = 200;

export function createAccessLogSource(logs: CloudWatchLogsClient, logGroupName: string): AccessLogSource {
  return {
    async countStatus(status, startMs, endMs) {
      let count = 0;
      let nextToken: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const res = await logs.send(new FilterLogEventsCommand({ logGroupName, startTime: startMs, endTime: endMs, filterPattern: statusFilterPattern(status), nextToken }));
        count += res.events?.length ?? 0;
        nextToken = res.nextToken;
        if (!nextToken) break;
      }
      return count;
    },
    async list429(startMs, endMs) {
      const lines: ThrottledLogLine[] = [];
      let nextToken: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const res = await logs.send(new FilterLogEventsCommand({ logGroupName, startTime: startMs, endTime: endMs, filterPattern: statusFilterPattern(429), nextToken }));
        for (const e of res.events ?? []) {
          const line = e.message === undefined ? undefined : parseThrottledLine(e.message);
          if (line) lines.push(line);
        }
        nextToken = res.nextToken;
        if (!nextToken) break;
      }
      return lines;
    },
  };
}
