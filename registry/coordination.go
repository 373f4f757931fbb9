package registry

func installCoordination(b *builder) {}
