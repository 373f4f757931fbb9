package registry

func installScheduling(b *builder) {}
