package manager

// workloadStarters are the workload controllers (replicaset, deployment, ...).
func workloadStarters() []starter {
	return nil
}
