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

// controllerContext is what a controller's starter gets: the shared
// informers and a client with the controller's own user agent.
type controllerContext struct {
	Config
	Factory informers.SharedInformerFactory
	// ClientFor returns a client whose user agent names the controller.
	ClientFor func(name string) (kubernetes.Interface, error)
}

// starter constructs one controller and starts it in the background.
type starter struct {
	name  string
	start func(ctx context.Context, cc controllerContext) error
}

func runControllers(ctx context.Context, c Config) error {
	shared, err := clientFor(c.Client, "shared-informers")
	if err != nil {
		return err
	}
	factory := informers.NewSharedInformerFactory(shared, 12*time.Hour)
	cc := controllerContext{Config: c, Factory: factory, ClientFor: func(name string) (kubernetes.Interface, error) { return clientFor(c.Client, name) }}
	// Each group of controllers lists its starters in a file of its own.
	var all []starter
	all = append(all, coreStarters()...)
	all = append(all, workloadStarters()...)
	all = append(all, lifecycleStarters()...)
	all = append(all, batchStarters()...)
	all = append(all, networkStarters()...)
	all = append(all, statefulStarters()...)
	all = append(all, policyStarters()...)
	all = append(all, nodeStarters()...)
	for _, s := range all {
		if err := s.start(ctx, cc); err != nil {
			return fmt.Errorf("starting controller %s: %w", s.name, err)
		}
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	<-ctx.Done()
	return nil
}
