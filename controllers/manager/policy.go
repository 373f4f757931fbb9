package manager

// policyStarters are the quota and policy controllers (resource quota, disruption, clusterrole aggregation).
func policyStarters() []starter {
	return nil
}
