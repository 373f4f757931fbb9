package registry

func installEvents(b *builder) {}
