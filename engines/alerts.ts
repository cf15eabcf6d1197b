// What every engine needs to know about an alert destination: where its credential lives and how it reaches
// the cluster. The credential is a property of one Secrets Manager entry, `<prefix>/alerts/<name>`, that a
// person fills; External Secrets copies it into the engine's namespace. Pulumi never sees the value.
import type { AlertDestination, AlertType } from "../config";
import type { RemoteValue } from "../core/external-secrets";
import { alertSecret } from "../core/secrets";

/** The one property each type's entry holds, named as Flux's Provider Secret expects it (`token`, `address`). */
export const CREDENTIAL_PROPERTY: Record<AlertType, "token" | "address"> = {
  slack: "token",
  webhook: "address",
  msteams: "address",
};

/** The destination's credential as one key of a Kubernetes Secret. */
export function credential(d: AlertDestination, secretsPrefix: string, secretKey: string): RemoteValue {
  return {
    secretKey,
    remoteKey: `${secretsPrefix}/${alertSecret(d.name)}`,
    property: CREDENTIAL_PROPERTY[d.type],
  };
}
