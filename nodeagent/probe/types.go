package probe

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
)

// Execer runs a command in a running container. Production backs it with CRI
// ExecSync.
//
// A command that exits non-zero is reported with its exitCode and a nil error
// (an error with an ExitStatus() int method, as k8s.io/utils/exec's ExitError,
// is accepted too). A command that runs past timeout is reported with an error
// that matches k8s.io/cri-client's ErrCommandTimedOut or
// context.DeadlineExceeded with errors.Is, or carries the gRPC code
// DeadlineExceeded. Any other error means the probe could not run and its
// result is discarded.
type Execer interface {
	ExecSync(ctx context.Context, containerID string, cmd []string, timeout time.Duration) (stdout, stderr []byte, exitCode int32, err error)
}

// Recorder records events. client-go's record.EventRecorder satisfies it.
type Recorder interface {
	Eventf(object runtime.Object, eventtype, reason, messageFmt string, args ...any)
}

// Event reasons, as the kubelet uses them.
const (
	ReasonUnhealthy    = "Unhealthy"
	ReasonProbeWarning = "ProbeWarning"
)

// Kind is the kind of a probe. Its value is the word the kubelet puts in
// front of probe messages.
type Kind string

const (
	Liveness  Kind = "Liveness"
	Readiness Kind = "Readiness"
	Startup   Kind = "Startup"
)

// Outcome is the state of a probe once its thresholds are applied.
type Outcome string

const (
	// Unknown is the state before a probe reached a threshold.
	Unknown Outcome = "Unknown"
	Success Outcome = "Success"
	Failure Outcome = "Failure"
)

// warning is what a single httpGet check returns when it stopped at a redirect
// to another host; it counts as a success and records a ProbeWarning event.
const warning Outcome = "Warning"

// Result is the current state of one probe.
type Result struct {
	Outcome Outcome
	// Message explains a Failure, e.g.
	// "Liveness probe failed: HTTP probe failed with statuscode: 500".
	Message string
}

// Kill says why a running container has to be killed and restarted.
type Kill struct {
	// Kind is Liveness or Startup.
	Kind Kind
	// Message is the kubelet's reason for the kill, e.g.
	// "Container web failed liveness probe"; the kubelet appends
	// ", will be restarted" when the restart policy restarts it.
	Message string
	// ProbeMessage is the last failure of the probe, e.g.
	// "Liveness probe failed: HTTP probe failed with statuscode: 500".
	ProbeMessage string
	// TerminationGracePeriodSeconds is the probe's own grace period, which
	// replaces the pod's for this kill; nil when the probe sets none.
	TerminationGracePeriodSeconds *int64
}
