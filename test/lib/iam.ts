// A thin wrapper over a real IAM policy simulator (@cloud-copilot/iam-simulate), so tests can ask "is this
// request allowed?" of the policy documents the program builds instead of string-matching them.
//
// How requests are evaluated:
// - `runSimulation` (the validated entry point) is always tried first. It validates every document (grammar),
//   the action (must exist), the resource ARN (must fit the action's resource types) and the context keys.
// - It silently DROPS context keys it does not know for the action ("ignoredContextKeys"). OIDC provider keys
//   of an EKS issuer (`oidc.eks.<region>.amazonaws.com/id/<ID>:sub` / `:aud`) are always dropped: its OIDC-key
//   check does not accept a `/` in the provider part, and the action's key list from iam-data only knows the
//   fixed providers (accounts.google.com, cognito, ...). A trust policy that conditions on `:sub`/`:aud` would
//   then be evaluated without those keys and every IRSA request would come back ImplicitlyDenied. This is the
//   case where iam-simulate cannot evaluate an AssumeRoleWithWebIdentity trust policy faithfully through its
//   validated path.
// - Faithful alternative used here: when the only dropped keys are OIDC provider keys (`<provider>:<claim>`),
//   the same request is re-run with `runUnsafeSimulation`, which evaluates the same core engine (same
//   principal matching of `Federated`, same condition operators, same trust rules for STS) with the context
//   passed verbatim. The documents have already been validated by the first run. Any other dropped key (for
//   example a misspelt `kms:ViaServce`) is an error, so a typo cannot silently turn into an implicit deny.
import { expandIamActions, type InvalidActionBehavior } from "@cloud-copilot/iam-expand";
import {
  createValidatedPolicy,
  validateIdentityPolicy,
  validateResourcePolicy,
} from "@cloud-copilot/iam-policy";
import { runSimulation, runUnsafeSimulation, type Simulation } from "@cloud-copilot/iam-simulate";

export type Decision = "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied";

export interface SimRequest {
  action: string;
  /** A full ARN, or "*" for actions that do not support resource-level permissions. */
  resource: string;
  /** Defaults to a role in the default account. For web identity: the OIDC provider ARN. */
  principal?: string;
  context?: Record<string, string | string[]>;
}

export const DEFAULT_ACCOUNT = "111122223333";
export const DEFAULT_PRINCIPAL = `arn:aws:iam::${DEFAULT_ACCOUNT}:role/test-principal`;

/** OIDC claims IAM exposes as `<provider>:<claim>` condition keys for web identity federation. */
const OIDC_CLAIMS = new Set(["sub", "aud", "amr", "oaud", "email", "azp", "id"]);

function isOidcContextKey(key: string): boolean {
  const i = key.lastIndexOf(":");
  if (i <= 0) return false;
  const provider = key.slice(0, i);
  // A provider is a host name with an optional path (EKS: oidc.eks.<region>.amazonaws.com/id/<ID>).
  return (
    OIDC_CLAIMS.has(key.slice(i + 1).toLowerCase()) && /^[a-z0-9.-]+\.[a-z]{2,}(\/[\w./-]+)?$/i.test(provider)
  );
}

function accountOf(arn: string | undefined): string | undefined {
  if (!arn || !arn.startsWith("arn:")) return undefined;
  const account = arn.split(":")[4];
  return account && /^\d{12}$/.test(account) ? account : undefined;
}

function asDecision(result: string | undefined, what: string): Decision {
  if (result === "Allowed" || result === "ImplicitlyDenied" || result === "ExplicitlyDenied") return result;
  throw new Error(`iam-simulate returned no decision for ${what}: ${String(result)}`);
}

async function simulate(
  identityPolicies: object[],
  resourcePolicy: object | undefined,
  req: SimRequest,
): Promise<Decision> {
  const principal = req.principal ?? DEFAULT_PRINCIPAL;
  const accountId = accountOf(req.resource) ?? accountOf(principal) ?? DEFAULT_ACCOUNT;
  const simulation: Simulation = {
    request: {
      principal,
      action: req.action,
      resource: { resource: req.resource, accountId },
      contextVariables: req.context ?? {},
    },
    identityPolicies: identityPolicies.map((policy, i) => ({ name: `identity-${i}`, policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(resourcePolicy ? { resourcePolicy } : {}),
  };
  const what = `${req.action} on ${req.resource} by ${principal}`;
  const response = await runSimulation(simulation, {});
  if (response.resultType === "error") {
    throw new Error(`iam-simulate rejected the simulation of ${what}: ${JSON.stringify(response.errors)}`);
  }
  const ignored =
    response.resultType === "single"
      ? (response.result.ignoredContextKeys ?? [])
      : response.results.flatMap((r) => r.ignoredContextKeys ?? []);
  if (ignored.length === 0) return asDecision(response.overallResult, what);

  const notOidc = [...new Set(ignored)].filter((k) => !isOidcContextKey(k));
  if (notOidc.length > 0) {
    throw new Error(`context keys not applicable to ${req.action} (misspelt?): ${notOidc.join(", ")}`);
  }
  if (response.resultType !== "single") {
    throw new Error(`OIDC context keys are only supported with a single, non-wildcard resource (${what})`);
  }
  // Documents are valid (the validated run above accepted them); evaluate with the OIDC keys kept verbatim.
  const unsafe: Simulation = {
    ...simulation,
    identityPolicies: simulation.identityPolicies.map(({ name, policy }) => ({
      name,
      policy: createValidatedPolicy(policy, validateIdentityPolicy, { name }),
    })),
    ...(resourcePolicy
      ? {
          resourcePolicy: createValidatedPolicy(resourcePolicy, validateResourcePolicy, { name: "resource" }),
        }
      : {}),
  };
  return asDecision(runUnsafeSimulation(unsafe, {}), what);
}

/** Evaluates a request made by `req.principal` against its identity policies only (no resource policy). */
export async function simulateIdentity(policies: object[], req: SimRequest): Promise<Decision> {
  return simulate(policies, undefined, req);
}

/**
 * Evaluates a request against a resource policy (a KMS key policy, or a role trust policy for `sts:AssumeRole*`
 * where `req.resource` is the role ARN), plus the caller's identity policies if given. AWS's per-service trust
 * rules apply: a KMS key is usable through identity policies only if its key policy delegates to the account;
 * a role trust policy must name the principal (Federated OIDC provider ARN for AssumeRoleWithWebIdentity).
 */
export async function simulateResourcePolicy(
  resourcePolicy: object,
  req: SimRequest & { principal: string },
  identityPolicies: object[] = [],
): Promise<Decision> {
  return simulate(identityPolicies, resourcePolicy, req);
}

type Doc = { Statement?: unknown };

function statementsOf(policy: object | string): Record<string, unknown>[] {
  const doc = (typeof policy === "string" ? JSON.parse(policy) : policy) as Doc;
  const st = doc.Statement;
  if (st === undefined) throw new Error("policy document has no Statement");
  return (Array.isArray(st) ? st : [st]) as Record<string, unknown>[];
}

/**
 * Rejects a document whose Action/NotAction names an action, service or pattern IAM does not know.
 * Async because the bundled action data is loaded lazily. A wildcard that matches nothing (`ec2:Descrbe*`)
 * is rejected too; a bare "*" is valid syntax (whether it is acceptable is the policy pack's business).
 */
export async function assertValidActions(policy: object | string): Promise<void> {
  const problems: string[] = [];
  for (const [i, st] of statementsOf(policy).entries()) {
    for (const key of ["Action", "NotAction"] as const) {
      const value = st[key];
      if (value === undefined) continue;
      for (const action of [value].flat()) {
        if (typeof action !== "string") {
          problems.push(`Statement[${i}].${key}: not a string: ${JSON.stringify(action)}`);
          continue;
        }
        if (action === "*") continue;
        try {
          const expanded = await expandIamActions(action, {
            // The enum is exported as a type only; its runtime value is the string "Error".
            invalidActionBehavior: "Error" as InvalidActionBehavior,
            errorOnInvalidService: true,
            errorOnInvalidFormat: true,
          });
          if (expanded.length === 0) problems.push(`Statement[${i}].${key}: ${action} matches no IAM action`);
        } catch (e) {
          problems.push(`Statement[${i}].${key}: ${(e as Error).message}`);
        }
      }
    }
  }
  if (problems.length > 0) throw new Error(`invalid IAM actions:\n  ${problems.join("\n  ")}`);
}
