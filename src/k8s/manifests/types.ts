import type { MeshgwConfig } from '../../config/schema.js';

/** A Kubernetes object as meshgw renders it: plain data, serialisable to YAML for review. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** Everything the renderers need: the config and values only known after `up` and `push`. */
export interface RenderInput {
  config: MeshgwConfig;
  /** Image reference by digest (repo@sha256:...) for each service. */
  images: Record<string, string>;
  ingressNodePort: number;
  /** Each stateful service's DynamoDB table, from the stack outputs (TABLE_OUTPUTS); placeholders when unknown (dry run). */
  dataTables?: Record<string, string>;
  /** Region of the tables; the config's aws.region when unset. */
  awsRegion?: string;
}
