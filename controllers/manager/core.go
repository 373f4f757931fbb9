package manager

import (
	"context"

	"github.com/capstan-dev/capstan/controllers/rootcacertpublisher"
	"github.com/capstan-dev/capstan/controllers/serviceaccount"
)

// coreStarters are the controllers every namespace needs: its default
// ServiceAccount and the kube-root-ca.crt ConfigMap.
func coreStarters() []starter {
	return []starter{
		{serviceaccount.Name, func(ctx context.Context, cc controllerContext) error {
			client, err := cc.ClientFor(serviceaccount.Name)
			if err != nil {
				return err
			}
			c := serviceaccount.New(client, cc.Factory.Core().V1().Namespaces(), cc.Factory.Core().V1().ServiceAccounts())
			go c.Run(ctx, 2)
			return nil
		}},
		{rootcacertpublisher.Name, func(ctx context.Context, cc controllerContext) error {
			client, err := cc.ClientFor(rootcacertpublisher.Name)
			if err != nil {
				return err
			}
			c := rootcacertpublisher.New(client, cc.RootCA, cc.Factory.Core().V1().Namespaces(), cc.Factory.Core().V1().ConfigMaps())
			go c.Run(ctx, 2)
			return nil
		}},
	}
}
