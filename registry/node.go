package registry

func installNode(b *builder) {}
