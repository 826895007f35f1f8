/**
 * X-Ray segment documents, parsed once at the boundary (STYLE rule 6). Only the fields a waterfall
 * needs; everything else in a document is ignored. Field names from the X-Ray segment document
 * reference (docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html).
 */
import { z } from 'zod';

const http = z
  .object({
    request: z.object({ method: z.string().optional(), url: z.string().optional() }).partial().optional(),
    response: z.object({ status: z.number().optional() }).partial().optional(),
  })
  .partial()
  .optional();

export interface XRaySubsegment {
  id: string;
  name: string;
  start_time: number;
  end_time?: number;
  namespace?: string;
  http?: z.infer<typeof http>;
  subsegments?: XRaySubsegment[];
}

const subsegment: z.ZodType<XRaySubsegment> = z.lazy(() =>
  z.object({
    id: z.string(),
    name: z.string(),
    start_time: z.number(),
    end_time: z.number().optional(),
    namespace: z.string().optional(),
    http,
    subsegments: z.array(subsegment).optional(),
  }),
);

export const segmentSchema = z.object({
  id: z.string(),
  trace_id: z.string(),
  name: z.string(),
  /** Epoch seconds, fractional. */
  start_time: z.number(),
  end_time: z.number().optional(),
  parent_id: z.string().optional(),
  origin: z.string().optional(),
  http,
  aws: z.object({ api_gateway: z.object({ request_id: z.string().optional(), stage: z.string().optional() }).partial().optional() }).partial().optional(),
  subsegments: z.array(subsegment).optional(),
});

export type XRaySegment = z.infer<typeof segmentSchema>;

/** Parses one document; undefined when it is not JSON or lacks a segment's required fields (in-progress segments have no end). */
export function parseSegment(document: string): XRaySegment | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(document);
  } catch {
    return undefined;
  }
  const parsed = segmentSchema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}

/** API Gateway's own segment: the origin X-Ray documents for a REST API stage. */
export const API_GATEWAY_ORIGIN = 'AWS::ApiGateway::Stage';
