package registry

func installNetworking(b *builder) {}
