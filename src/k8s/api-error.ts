/** The Kubernetes API's refusals in the user's words: which object, and the server's own reason. */
import { MeshgwError } from '../errors.js';
import { describeRef, type ObjectRef } from './cluster.js';

/** The HTTP status of a failed @kubernetes/client-node call (ApiException.code), if it got an answer. */
export function apiStatusCode(err: unknown): number | undefined {
  const e = err as { code?: unknown; statusCode?: unknown } | undefined;
  if (typeof e?.code === 'number') return e.code;
  return typeof e?.statusCode === 'number' ? e.statusCode : undefined;
}

/** metav1.Status.message from the error body (a JSON string or an already parsed object). */
export function apiStatusMessage(err: unknown): string | undefined {
  const body = (err as { body?: unknown } | undefined)?.body;
  let status: unknown = body;
  if (typeof body === 'string') {
    try {
      status = JSON.parse(body);
    } catch {
      return body.trim() || undefined;
    }
  }
  const message = (status as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : undefined;
}

/**
 * A refused server-side apply as a MeshgwError naming the object. 422 is a schema or CEL rule of the
 * API or a CRD; a field the schema does not declare comes back as a 500 "field not declared in schema"
 * from server-side apply. Errors without an HTTP status (no connection) are returned unchanged.
 */
export function applyRefused(obj: ObjectRef, err: unknown): unknown {
  const code = apiStatusCode(err);
  if (code === undefined) return err;
  const ref = describeRef(obj);
  const reason = apiStatusMessage(err) ?? `HTTP ${code}`;
  const hint =
    code === 401 || code === 403
      ? `The kubeconfig's user may not change ${obj.kind} in this cluster: check \`kubectl auth can-i patch ${obj.kind.toLowerCase()}\`.`
      : `The cluster's API (or its CRD for ${obj.apiVersion}) does not accept this ${obj.kind}: compare the installed CRD versions with the ones meshgw pins (Gateway API, Istio), and \`meshgw deploy --dry-run\` shows what was sent.`;
  return new MeshgwError('DEPLOY_FAILED', `the API server refused ${ref} (HTTP ${code}): ${reason}`, hint, { cause: err });
}
