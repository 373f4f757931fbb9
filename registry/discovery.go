package registry

func installDiscovery(b *builder) {}
