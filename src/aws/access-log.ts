/** Counting requests in the API Gateway access log group (JSON lines, format set in templates/meshgw-stack.yaml). */
import { FilterLogEventsCommand, type CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';

export interface AccessLogSource {
  /** Access-log lines with the given status in [startMs, endMs]. */
  countStatus(status: number, startMs: number, endMs: number): Promise<number>;
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
  };
}
