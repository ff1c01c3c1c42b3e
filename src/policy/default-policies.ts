/**
 * Warden's default policy set, in Cedar. Cedar denies unless some `permit` matches and no `forbid`
 * does, so the set reads as: two permits that open the normal paths (ask; be approved by an owner or
 * break glass), then forbids that close them where the rules say so. Every policy carries an `@id`,
 * which is the name a decision reports.
 *
 * "Staging is the default for external developers" is expressed by `external-staging-default`: an
 * eligible external developer may request staging and development resources without anything else,
 * while a production resource is refused unless the engagement lists that resource in its scope
 * (`context.inEngagementScope`). Production then also needs a security officer's approval
 * (`sensitive-needs-security`), and write or admin there two approvals (`production-write-two-approvers`).
 */
export const defaultPolicyText = `// Any eligible developer may ask; forbids below narrow what may be asked for.
@id("eligible-may-request")
@description("An eligible developer may request access; the forbids below narrow this.")
permit (principal, action in Warden::Action::"request", resource is Warden::Resource)
when { principal.eligible };

@id("owner-approved")
@description("A request approved by at least one of the resource's owners may be granted and provisioned.")
permit (principal, action in Warden::Action::"grant", resource is Warden::Resource)
when { context.approvals >= 1 && context.approverRoles.contains(Warden::ApproverRole::"owner") };

@id("break-glass")
@description("Emergency access to a resource flagged for it needs no prior approval (it alerts security and is reviewed after).")
permit (principal, action in Warden::Action::"grant", resource is Warden::Resource)
when { context.breakGlass && resource.breakGlass };

@id("ineligible-gets-nothing")
@description("Nobody the gate finds ineligible gets anything, break-glass included.")
forbid (principal, action, resource)
unless { principal.eligible };

@id("frontend-no-database")
@description("Frontend developers get no database access.")
forbid (principal, action, resource is Warden::Resource)
when {
  principal.roles.contains(Warden::Role::"frontend") &&
  resource.kind == Warden::ResourceKind::"postgres"
};

@id("external-staging-default")
@description("External developers work on staging by default: production only when the engagement lists the resource.")
forbid (principal, action, resource is Warden::Resource)
when {
  principal.external &&
  resource.environment == Warden::Environment::"production" &&
  !context.inEngagementScope
};

@id("sensitive-needs-security")
@description("Production and restricted data need a security officer's approval too.")
forbid (principal, action in Warden::Action::"grant", resource is Warden::Resource)
when {
  resource.environment == Warden::Environment::"production" ||
  resource.dataClass == Warden::DataClass::"restricted"
}
unless {
  context.approverRoles.contains(Warden::ApproverRole::"security") ||
  (context.breakGlass && resource.breakGlass)
};

@id("production-write-two-approvers")
@description("Write (and admin) on production needs two approvers.")
forbid (principal, action in Warden::Action::"grant", resource is Warden::Resource)
when {
  (action in Warden::Action::"write" || action in Warden::Action::"admin") &&
  resource.environment == Warden::Environment::"production" &&
  context.approvals < 2
}
unless { context.breakGlass && resource.breakGlass };
`;
