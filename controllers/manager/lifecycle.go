package manager

// lifecycleStarters are the lifecycle and housekeeping controllers (garbage
// collector, namespace deletion, pod GC, ...).
func lifecycleStarters() []starter {
	return nil
}
