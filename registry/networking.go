package registry

import (
	"github.com/capstan-dev/capstan/registry/networking/ingress"
	"github.com/capstan-dev/capstan/registry/networking/ingressclass"
	"github.com/capstan-dev/capstan/registry/networking/ipaddress"
	"github.com/capstan-dev/capstan/registry/networking/networkpolicy"
	"github.com/capstan-dev/capstan/registry/networking/servicecidr"
)

func installNetworking(b *builder) {
	addResource(b, ingress.Resource, "v1")
	addResource(b, ingressclass.Resource, "v1")
	addResource(b, networkpolicy.Resource, "v1")
	// Services allocate ClusterIPs through the same IPAddress storage.
	addResource(b, ipaddress.Resource, "v1")
	addResource(b, servicecidr.Resource, "v1")
}
