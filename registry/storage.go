package registry

func installStorage(b *builder) {}
