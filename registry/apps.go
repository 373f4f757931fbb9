package registry

func installApps(b *builder) {}
