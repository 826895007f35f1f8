/**
 * The two X-Ray calls `meshgw trace` makes, behind a narrow interface of ours (STYLE rule 3): the
 * reader is tested against moto's server through the real client, and nothing else imports the SDK.
 */
import type { AwsClientOptions } from '../aws/clients.js';

export interface XRayTraceSummary {
  id: string;
  /** Seconds, when X-Ray reports it. */
  responseTime?: number;
  httpMethod?: string;
  httpUrl?: string;
}

export interface XRayTrace {
  id: string;
  /** Each segment's JSON document, as sent by API Gateway, Envoy or the ADOT collector. */
  documents: string[];
}

export interface XRayApi {
  /** Summaries of the traces that started in the window, every page followed. */
  traceSummaries(window: { start: Date; end: Date }): Promise<XRayTraceSummary[]>;
  /** Full traces by id (X-Ray takes at most 5 per call: batched here). */
  traces(ids: string[]): Promise<XRayTrace[]>;
}

/** BatchGetTraces accepts up to five trace ids per call (API reference, TraceIds). */
const BATCH_GET_TRACES_MAX = 5;
/** A bound on pages, so a very busy account cannot keep one `meshgw trace` paging for ever. */
const MAX_SUMMARY_PAGES = 50;

/** The one factory for the X-Ray client (loaded lazily: only the aws path of `trace` needs it). */
export async function createXRayApi(opts: AwsClientOptions): Promise<XRayApi> {
  const [{ XRayClient, GetTraceSummariesCommand, BatchGetTracesCommand }, { awsClientConfig }] = await Promise.all([import('@aws-sdk/client-xray'), import('../aws/clients.js')]);
  const client = new XRayClient(awsClientConfig(opts));
  return {
    async traceSummaries(window) {
      const out: XRayTraceSummary[] = [];
      let token: string | undefined;
      for (let page = 0; page < MAX_SUMMARY_PAGES; page++) {
        const res = await client.send(new GetTraceSummariesCommand({ StartTime: window.start, EndTime: window.end, TimeRangeType: 'TraceId', ...(token ? { NextToken: token } : {}) }));
        for (const s of res.TraceSummaries ?? []) {
          if (!s.Id) continue;
          out.push({ id: s.Id, ...(s.ResponseTime !== undefined ? { responseTime: s.ResponseTime } : {}), ...(s.Http?.HttpMethod ? { httpMethod: s.Http.HttpMethod } : {}), ...(s.Http?.HttpURL ? { httpUrl: s.Http.HttpURL } : {}) });
        }
        token = res.NextToken;
        if (!token) break;
      }
      return out;
    },
    async traces(ids) {
      const out: XRayTrace[] = [];
      for (let i = 0; i < ids.length; i += BATCH_GET_TRACES_MAX) {
        let token: string | undefined;
        do {
          const res = await client.send(new BatchGetTracesCommand({ TraceIds: ids.slice(i, i + BATCH_GET_TRACES_MAX), ...(token ? { NextToken: token } : {}) }));
          for (const t of res.Traces ?? []) if (t.Id) out.push({ id: t.Id, documents: (t.Segments ?? []).flatMap((s) => (s.Document ? [s.Document] : [])) });
          token = res.NextToken;
        } while (token);
      }
      return out;
    },
  };
}
