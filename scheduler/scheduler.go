package scheduler

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"

	"github.com/capstan-dev/capstan/scheduler/framework"
	"github.com/capstan-dev/capstan/scheduler/plugins"
)

const (
	// UserAgent identifies the scheduler's requests.
	UserAgent = "capstan-scheduler"
	// LeaseNamespace and LeaseName name the Lease schedulers compete for, as upstream's.
	LeaseNamespace = "kube-system"
	LeaseName      = "kube-scheduler"
)

// Config is what the scheduler needs.
type Config struct {
	// Client is the base client configuration; the scheduler uses a copy
	// with its own user agent.
	Client *rest.Config
	// SchedulerName is the spec.schedulerName of the pods to place;
	// "default-scheduler" when empty.
	SchedulerName string
	// Identity names this scheduler in the Lease; hostname and a random
	// suffix when empty.
	Identity string

	// Registry and Profile replace the default plugins when set.
	Registry framework.Registry
	Profile  *framework.Profile

	// Queue timings; upstream's when zero, except that unschedulable pods
	// are retried after 60 seconds without a helpful event rather than 5 minutes.
	PodInitialBackoff, PodMaxBackoff, PodMaxInUnschedulablePods time.Duration

	// Leader election timings; upstream's (15s, 10s, 2s) when zero.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
}

// Scheduler places pods while it holds the lease.
type Scheduler struct {
	cfg    Config
	client kubernetes.Interface
}

// New validates cfg and prepares a scheduler; Run starts it.
func New(cfg Config) (*Scheduler, error) {
	if cfg.Client == nil {
		return nil, errors.New("scheduler: no client configuration")
	}
	rc := rest.CopyConfig(cfg.Client)
	rc.UserAgent = UserAgent
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("scheduler client: %w", err)
	}
	return newWithClient(cfg, client)
}

func newWithClient(cfg Config, client kubernetes.Interface) (*Scheduler, error) {
	if cfg.SchedulerName == "" {
		cfg.SchedulerName = v1.DefaultSchedulerName
	}
	if cfg.Identity == "" {
		host, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("scheduler identity: %w", err)
		}
		cfg.Identity = host + "_" + string(uuid.NewUUID())
	}
	if cfg.Registry == nil {
		cfg.Registry = plugins.NewRegistry()
	}
	if cfg.Profile == nil {
		p := plugins.DefaultProfile(cfg.SchedulerName)
		cfg.Profile = &p
	}
	if cfg.Profile.SchedulerName != cfg.SchedulerName {
		return nil, fmt.Errorf("scheduler: profile is for %q, not %q", cfg.Profile.SchedulerName, cfg.SchedulerName)
	}
	if cfg.LeaseDuration == 0 {
		cfg.LeaseDuration = 15 * time.Second
	}
	if cfg.RenewDeadline == 0 {
		cfg.RenewDeadline = 10 * time.Second
	}
	if cfg.RetryPeriod == 0 {
		cfg.RetryPeriod = 2 * time.Second
	}
	return &Scheduler{cfg: cfg, client: client}, nil
}

// Run campaigns for the lease and schedules while holding it, until ctx
// ends. A scheduler that loses the lease stops, drops its state and
// campaigns again.
func (s *Scheduler) Run(ctx context.Context) error {
	logger := klog.FromContext(ctx)
	lock, err := resourcelock.New(resourcelock.LeasesResourceLock, LeaseNamespace, LeaseName,
		s.client.CoreV1(), s.client.CoordinationV1(), resourcelock.ResourceLockConfig{Identity: s.cfg.Identity})
	if err != nil {
		return err
	}
	for ctx.Err() == nil {
		if err := s.campaign(ctx, lock); err != nil {
			return err
		}
		if ctx.Err() == nil {
			logger.Info("Lost the scheduler lease; campaigning again", "identity", s.cfg.Identity)
		}
	}
	return nil
}

// campaign waits for the lease and schedules until it is lost, ctx ends or
// scheduling fails.
func (s *Scheduler) campaign(ctx context.Context, lock resourcelock.Interface) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// term is held while leading, so that the return below waits for the
	// term to wind down (leaderelection starts it in its own goroutine).
	var term sync.Mutex
	var termErr error
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   s.cfg.LeaseDuration,
		RenewDeadline:   s.cfg.RenewDeadline,
		RetryPeriod:     s.cfg.RetryPeriod,
		ReleaseOnCancel: true,
		Name:            LeaseName,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(leadCtx context.Context) {
				term.Lock()
				defer term.Unlock()
				if leadCtx.Err() != nil {
					return
				}
				klog.FromContext(ctx).Info("Leading; scheduling pods", "identity", s.cfg.Identity)
				termErr = s.lead(leadCtx)
				// Give the lease up if scheduling stopped on its own.
				cancel()
			},
			OnStoppedLeading: func() {},
		},
	})
	if err != nil {
		return err
	}
	le.Run(ctx)
	cancel()
	term.Lock()
	defer term.Unlock()
	return termErr
}

// lead schedules until ctx ends (the lease is lost or the scheduler stops).
func (s *Scheduler) lead(ctx context.Context) error {
	l, err := newLoop(ctx, s.cfg, s.client)
	if err != nil {
		return err
	}
	return l.run(ctx)
}
