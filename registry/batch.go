package registry

func installBatch(b *builder) {}
