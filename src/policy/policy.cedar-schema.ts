/**
 * The Cedar schema every Warden policy is validated against (Cedar's human-readable schema format).
 *
 * Closed vocabularies (environment, data class, resource kind, engagement role, approver role) are
 * enumerated entity types rather than strings: a typo such as `Warden::Environment::"prod"` is then a
 * validation error on save instead of a `forbid` that silently never matches.
 *
 * The principal is always the developer who would hold the access. The three action families ask:
 * - `request.<level>`: may this developer ask for this level on this resource at all?
 * - `approve.<level>`: do the approvals gathered so far (context) suffice to approve the request?
 * - `provision.<level>`: may the connector create the access now (checked again right before it runs)?
 * Action groups let a policy say `action in Warden::Action::"grant"` (approve and provision) or
 * `action in Warden::Action::"write"` (every action at level write).
 */
export const wardenCedarSchema = `namespace Warden {
  entity Environment enum ["production", "staging", "development"];
  entity DataClass enum ["public", "internal", "confidential", "restricted"];
  entity ResourceKind enum ["postgres", "ssh", "github", "gitlab", "generic"];
  entity Role enum ["frontend", "backend", "devops", "data", "qa"];
  entity ApproverRole enum ["owner", "security"];

  // A vendor (outsourcing company); freelancers have none. Developers are members of their vendor,
  // so a policy can say \`principal in Warden::Vendor::"acme"\`.
  entity Vendor;

  entity Developer in [Vendor] {
    roles: Set<Role>,
    // External (vendor or freelance) developer: staging is their default (see the default policies).
    external: Bool,
    // The gate's outcome, eligibility(developer, engagement, at).
    eligible: Bool,
    ineligibleReasons: Set<String>,
  };

  entity Resource {
    kind: ResourceKind,
    environment: Environment,
    dataClass: DataClass,
    // Ids of the people who approve access to this resource.
    owners: Set<String>,
    // Flagged for break-glass (emergency) access.
    breakGlass: Bool,
  };

  type AccessContext = {
    // Distinct approvals recorded so far (never the requester's own).
    approvals: Long,
    // Roles in which those approvals were given.
    approverRoles: Set<ApproverRole>,
    // The request is an emergency (break-glass) request.
    breakGlass: Bool,
    // The resource is listed in the developer's engagement scope.
    inEngagementScope: Bool,
  };

  action request, grant;
  action approve, provision in [grant];
  action read, write, admin;

  action "request.read" in [request, read]
    appliesTo { principal: Developer, resource: Resource, context: AccessContext };
  action "request.write" in [request, write]
    appliesTo { principal: Developer, resource: Resource, context: AccessContext };
  action "request.admin" in [request, admin]
    appliesTo { principal: Developer, resource: Resource, context: AccessContext };
  action "approve.read" in [approve, read]
    appliesTo { principal: Developer, resource: Resource, context: AccessContext };
  action "approve.write" in [approve, write]
    appliesTo { principal: Developer, resource: Resource, context: AccessContext };
  action "approve.admin" in [approve, admin]
    appliesTo { principal: Developer, resource: Resource, context: AccessContext };
  action "provision.read" in [provision, read]
    appliesTo { principal: Developer, resource: Resource, context: AccessContext };
  action "provision.write" in [provision, write]
    appliesTo { principal: Developer, resource: Resource, context: AccessContext };
  action "provision.admin" in [provision, admin]
    appliesTo { principal: Developer, resource: Resource, context: AccessContext };
}
`;
