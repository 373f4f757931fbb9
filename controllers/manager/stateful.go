package manager

// statefulStarters are the statefulset and daemonset controllers.
func statefulStarters() []starter {
	return nil
}
