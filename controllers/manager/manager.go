// Package manager starts Capstan's controllers once the apiserver is ready,
// each with its own client and user agent, under one leader-election lease
// so that several servers can run side by side.
package manager

import (
	"context"
	"fmt"
	"os"
	"time"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"

	"github.com/capstan-dev/capstan/controllers/rootcacertpublisher"
	"github.com/capstan-dev/capstan/controllers/serviceaccount"
)

// Config is what the controllers need.
type Config struct {
	// Client is the base client configuration; each controller gets a copy.
	Client *rest.Config
	// RootCA is the cluster CA bundle published in every namespace.
	RootCA []byte
	// Identity names this server in the leader-election lease.
	Identity string
}

// LeaseName is the kube-system Lease the controller managers compete for.
const LeaseName = "capstan-controller-manager"

func clientFor(base *rest.Config, name string) (kubernetes.Interface, error) {
	cfg := rest.CopyConfig(base)
	cfg.UserAgent = "capstan-controller-manager/" + name
	return kubernetes.NewForConfig(cfg)
}

// Run blocks until ctx ends: it takes the lease and, while leading, runs the controllers.
func Run(ctx context.Context, c Config) error {
	client, err := clientFor(c.Client, "leader-election")
	if err != nil {
		return err
	}
	id := c.Identity
	if id == "" {
		host, _ := os.Hostname()
		id = fmt.Sprintf("%s_%d", host, os.Getpid())
	}
	lock, err := resourcelock.New(resourcelock.LeasesResourceLock, "kube-system", LeaseName, client.CoreV1(), client.CoordinationV1(),
		resourcelock.ResourceLockConfig{Identity: id})
	if err != nil {
		return err
	}
	leaderelection.RunOrDie(ctx, leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   15 * time.Second,
		RenewDeadline:   10 * time.Second,
		RetryPeriod:     2 * time.Second,
		ReleaseOnCancel: true,
		Name:            LeaseName,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(ctx context.Context) {
				if err := runControllers(ctx, c); err != nil {
					klog.FromContext(ctx).Error(err, "Controllers stopped")
				}
			},
			OnStoppedLeading: func() {},
		},
	})
	return nil
}

func runControllers(ctx context.Context, c Config) error {
	shared, err := clientFor(c.Client, "shared-informers")
	if err != nil {
		return err
	}
	factory := informers.NewSharedInformerFactory(shared, 12*time.Hour)
	saClient, err := clientFor(c.Client, serviceaccount.Name)
	if err != nil {
		return err
	}
	caClient, err := clientFor(c.Client, rootcacertpublisher.Name)
	if err != nil {
		return err
	}
	sa := serviceaccount.New(saClient, factory.Core().V1().Namespaces(), factory.Core().V1().ServiceAccounts())
	ca := rootcacertpublisher.New(caClient, c.RootCA, factory.Core().V1().Namespaces(), factory.Core().V1().ConfigMaps())
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	go sa.Run(ctx, 2)
	go ca.Run(ctx, 2)
	<-ctx.Done()
	return nil
}
