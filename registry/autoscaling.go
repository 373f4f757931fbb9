package registry

func installAutoscaling(b *builder) {}
