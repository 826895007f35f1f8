/**
 * KubernetesObjectApi whose server-side apply sends the object exactly as given.
 *
 * @kubernetes/client-node's patch() runs a built-in kind through its generated model before sending it,
 * and the model keeps only the attributes it knows by their TypeScript names: a CustomResourceDefinition
 * loses every `x-kubernetes-*` key (CEL rules, int-or-string, list types) and a misspelt Deployment field
 * vanishes instead of being refused. A real kube-apiserver showed it: Istio's CRDs came back 422
 * ("observedGeneration.type: Required value") once `x-kubernetes-int-or-string` had been stripped.
 */
import { HttpMethod, KubernetesObjectApi, PatchStrategy, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';

export class RawObjectApi extends KubernetesObjectApi {
  static fromKubeConfig(kc: KubeConfig): RawObjectApi {
    const client = kc.makeApiClient(RawObjectApi);
    client.setDefaultNamespace(kc);
    return client;
  }

  /** Server-side apply (application/apply-patch+yaml; JSON is YAML) of `obj` as is, with `fieldManager` and force. */
  async serverSideApply(obj: KubernetesObject, fieldManager: string): Promise<KubernetesObject> {
    const ctx = this.configuration.baseServer.makeRequestContext(await this.specUriPath(obj, 'patch'), HttpMethod.PATCH);
    ctx.setHeaderParam('Accept', 'application/json, */*;q=0.8');
    ctx.setHeaderParam('Content-Type', PatchStrategy.ServerSideApply);
    ctx.setQueryParam('fieldManager', fieldManager);
    ctx.setQueryParam('force', 'true');
    ctx.setBody(JSON.stringify(obj));
    return this.requestPromise(ctx);
  }
}
