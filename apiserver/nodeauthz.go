package apiserver

import (
	"context"
	"strings"

	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// nodeRules are what a node agent (user system:node:<name> in group
// system:nodes) may do: the verbs of upstream's system:node ClusterRole.
// Upstream additionally narrows reads of secrets, configmaps and volumes to
// the pods bound to the node (the Node authorizer's graph); Capstan does not
// track that graph yet, so a node may read any of them.
var nodeRules = map[string]map[string][]string{
	"": {
		"nodes":                         {"create", "get", "list", "watch", "update", "patch", "delete"},
		"nodes/status":                  {"patch", "update"},
		"pods":                          {"get", "list", "watch", "create", "delete"},
		"pods/status":                   {"patch", "update"},
		"pods/eviction":                 {"create"},
		"services":                      {"get", "list", "watch"},
		"endpoints":                     {"get", "list", "watch"},
		"secrets":                       {"get", "list", "watch"},
		"configmaps":                    {"get", "list", "watch"},
		"persistentvolumeclaims":        {"get"},
		"persistentvolumeclaims/status": {"get", "update", "patch"},
		"persistentvolumes":             {"get"},
		"events":                        {"create", "patch", "update"},
		"serviceaccounts":               {"get"},
		"serviceaccounts/token":         {"create"},
	},
	"events.k8s.io":         {"events": {"create", "patch", "update"}},
	"authentication.k8s.io": {"tokenreviews": {"create"}},
	"authorization.k8s.io":  {"subjectaccessreviews": {"create"}, "localsubjectaccessreviews": {"create"}},
	"coordination.k8s.io":   {"leases": {"get", "create", "update", "patch", "delete"}},
	"certificates.k8s.io":   {"certificatesigningrequests": {"create", "get", "list", "watch"}, "clustertrustbundles": {"get", "list", "watch"}},
	"storage.k8s.io":        {"volumeattachments": {"get"}, "csidrivers": {"get", "list", "watch"}, "csinodes": {"create", "delete", "get", "patch", "update"}},
	"node.k8s.io":           {"runtimeclasses": {"get", "list", "watch"}},
	"discovery.k8s.io":      {"endpointslices": {"get", "list", "watch"}},
	"resource.k8s.io":       {"resourceclaims": {"get"}, "resourceslices": {"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}},
}

// nodeAuthorizer allows node agents what they need and has no opinion on
// anyone else.
type nodeAuthorizer struct{}

func (nodeAuthorizer) Authorize(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	u := a.GetUser()
	if u == nil || !strings.HasPrefix(u.GetName(), "system:node:") || !a.IsResourceRequest() {
		return authorizer.DecisionNoOpinion, "", nil
	}
	inGroup := false
	for _, g := range u.GetGroups() {
		if g == "system:nodes" {
			inGroup = true
		}
	}
	if !inGroup {
		return authorizer.DecisionNoOpinion, "", nil
	}
	res := a.GetResource()
	if a.GetSubresource() != "" {
		res += "/" + a.GetSubresource()
	}
	for _, v := range nodeRules[a.GetAPIGroup()][res] {
		if v == a.GetVerb() {
			return authorizer.DecisionAllow, "", nil
		}
	}
	return authorizer.DecisionNoOpinion, "", nil
}

func (n nodeAuthorizer) ConditionsAwareAuthorize(ctx context.Context, a authorizer.Attributes) authorizer.ConditionsAwareDecision {
	return authorizer.ConditionsAwareDecisionFromParts(n.Authorize(ctx, a))
}

func (nodeAuthorizer) EvaluateConditions(context.Context, authorizer.ConditionsAwareDecision, authorizer.ConditionsData) (authorizer.Decision, string, error) {
	return authorizer.DecisionDeny, "", authorizer.ErrorConditionEvaluationNotSupported
}
