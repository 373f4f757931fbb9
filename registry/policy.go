package registry

func installPolicy(b *builder) {}
