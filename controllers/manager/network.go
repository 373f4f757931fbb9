package manager

// networkStarters are the Service endpoint controllers (endpoints, endpointslice, endpointslice mirroring).
func networkStarters() []starter {
	return nil
}
