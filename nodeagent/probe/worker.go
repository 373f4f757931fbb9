package probe

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
)

// worker runs one probe of one container until it is cancelled or the probe
// reached a result after which the container has to be restarted.
type worker struct {
	m       *Manager
	key     containerKey
	kind    Kind
	spec    *corev1.Probe
	target  *target
	started time.Time
	cancel  context.CancelFunc
	// trigger asks for a probe now instead of at the next period.
	trigger chan struct{}

	// last and streak count the consecutive checks with the same outcome.
	last   Outcome
	streak int32
}

func (w *worker) poke() {
	select {
	case w.trigger <- struct{}{}:
	default:
	}
}

func (w *worker) run(ctx context.Context) {
	defer w.m.wg.Done()
	defer w.m.running.Add(-1)
	logger := klog.FromContext(ctx)
	period := time.Duration(w.spec.PeriodSeconds) * time.Second

	// The first probe runs initialDelaySeconds after the container started,
	// the next ones every period after that.
	next := w.started.Add(time.Duration(w.spec.InitialDelaySeconds) * time.Second)
	if now := w.m.clock.Now(); next.Before(now) {
		next = now
	}
	var timer clock.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		now := w.m.clock.Now()
		if wait := next.Sub(now); wait > 0 {
			if timer == nil {
				timer = w.m.clock.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			select {
			case <-ctx.Done():
				return
			case <-timer.C():
			case <-w.trigger:
				if !timer.Stop() {
					// Drain a tick that fired meanwhile so it does not
					// cause an extra probe.
					select {
					case <-timer.C():
					default:
					}
				}
				next = w.m.clock.Now()
				logger.V(4).Info("Probe triggered")
			}
		} else if ctx.Err() != nil {
			return
		}

		if !w.probe(ctx) {
			logger.V(4).Info("Probe worker done")
			return
		}
		// Like a ticker, skip the periods a slow probe overran.
		if now = w.m.clock.Now(); !next.After(now) {
			next = next.Add((now.Sub(next)/period + 1) * period)
		}
	}
}

// probe runs one round and records the result once it reaches its
// threshold. It returns false when the worker has nothing left to do.
func (w *worker) probe(ctx context.Context) bool {
	if !w.m.mayProbe(w) {
		return true
	}
	r, err := w.m.prober.probe(ctx, w.kind, w.spec, w.target)
	if ctx.Err() != nil {
		return false
	}
	if err != nil {
		// The check could not run; that says nothing about the container.
		return true
	}

	if r.Outcome == w.last {
		w.streak++
	} else {
		w.last, w.streak = r.Outcome, 1
	}
	if (r.Outcome == Failure && w.streak < w.spec.FailureThreshold) ||
		(r.Outcome == Success && w.streak < w.spec.SuccessThreshold) {
		return true
	}
	w.m.record(w, r)

	// A failed liveness probe or a decided startup probe is final for this
	// container: the agent restarts it, or it has started. Stop probing
	// rather than exec into a container being killed.
	return !(w.kind == Liveness && r.Outcome == Failure) && w.kind != Startup
}
