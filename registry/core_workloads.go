package registry

func installCoreWorkloads(b *builder) {}
