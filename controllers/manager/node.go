package manager

// nodeStarters are the node controllers (node lifecycle, node IPAM, certificate signing).
func nodeStarters() []starter {
	return nil
}
