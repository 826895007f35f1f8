/** A CloudFormation resource or output as plain data (long-form intrinsics: { Ref }, { 'Fn::Sub' }). */
export type CfnValue = unknown;
export type CfnResource = { Type: string; Properties?: Record<string, CfnValue>; [key: string]: CfnValue };
export type CfnOutput = { Value: CfnValue; Description?: string };

/** Resources and outputs a renderer adds to the base template. */
export interface CfnFragment {
  resources: Record<string, CfnResource>;
  outputs: Record<string, CfnOutput>;
}

export interface CfnTemplate {
  AWSTemplateFormatVersion?: string;
  Description?: string;
  Parameters: Record<string, { Type: string; Default?: unknown; [key: string]: unknown }>;
  Resources: Record<string, CfnResource>;
  Outputs: Record<string, CfnOutput>;
}
