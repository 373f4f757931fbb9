package probe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/klog/v2"
)

const (
	// userAgent is what the kubelet 1.37 sends; servers match on it.
	userAgent = "kube-probe/1.37"
	// maxOutputBytes bounds exec output and HTTP bodies kept in messages.
	maxOutputBytes = 10 << 10
	// maxAttempts is how often a check that could not run is retried before
	// its round is given up.
	maxAttempts = 3
)

// target is the running container a probe checks.
type target struct {
	container   *corev1.Container
	containerID string
	podIP       string
	// ref is the container's object reference for events.
	ref *corev1.ObjectReference
}

// prober runs single checks and turns them into results and events.
type prober struct {
	exec      Execer
	recorder  Recorder
	transport *http.Transport
}

func newProber(exec Execer, recorder Recorder) *prober {
	return &prober{exec: exec, recorder: recorder, transport: newHTTPTransport()}
}

// probe runs one round of the probe spec against t. An error means the check
// could not run at all and the round has no result.
func (p *prober) probe(ctx context.Context, kind Kind, spec *corev1.Probe, t *target) (Result, error) {
	logger := klog.FromContext(ctx)
	var (
		outcome Outcome
		output  string
		err     error
	)
	for range maxAttempts {
		outcome, output, err = p.check(ctx, spec, t)
		if err == nil || ctx.Err() != nil {
			break
		}
	}
	if ctx.Err() != nil {
		// Stopped mid-probe: whatever the check saw is about the shutdown.
		return Result{}, ctx.Err()
	}
	if err != nil {
		logger.V(1).Info("Probe errored", "probeType", kind, "err", err)
		p.event(t, corev1.EventTypeWarning, ReasonUnhealthy, "%s probe errored and resulted in %s state: %s", kind, "unknown", err)
		return Result{}, err
	}
	switch outcome {
	case Success:
		logger.V(4).Info("Probe succeeded", "probeType", kind)
		return Result{Outcome: Success}, nil
	case warning:
		logger.V(3).Info("Probe succeeded with a warning", "probeType", kind, "output", output)
		p.event(t, corev1.EventTypeWarning, ReasonProbeWarning, "%s probe warning: %s", kind, output)
		return Result{Outcome: Success}, nil
	case Failure:
		logger.V(1).Info("Probe failed", "probeType", kind, "output", output)
		p.event(t, corev1.EventTypeWarning, ReasonUnhealthy, "%s probe failed: %s", kind, output)
		return Result{Outcome: Failure, Message: fmt.Sprintf("%s probe failed: %s", kind, output)}, nil
	default:
		// The kubelet counts an inconclusive check as a failure, silently.
		return Result{Outcome: Failure, Message: fmt.Sprintf("%s probe failed", kind)}, nil
	}
}

// check runs the probe's handler once.
func (p *prober) check(ctx context.Context, spec *corev1.Probe, t *target) (Outcome, string, error) {
	timeout := time.Duration(spec.TimeoutSeconds) * time.Second
	switch {
	case spec.Exec != nil:
		if p.exec == nil {
			return Unknown, "", errors.New("exec probes are not supported: no Execer")
		}
		cmd := expandStaticEnv(spec.Exec.Command, t.container.Env)
		return runExec(ctx, p.exec, t.containerID, cmd, timeout)
	case spec.HTTPGet != nil:
		req, err := newHTTPRequest(ctx, spec.HTTPGet, t.container, t.podIP)
		if err != nil {
			return Unknown, "", err
		}
		return runHTTP(req, p.transport, timeout)
	case spec.TCPSocket != nil:
		port, err := resolvePort(spec.TCPSocket.Port, t.container)
		if err != nil {
			return Unknown, "", err
		}
		host, err := probeHost(spec.TCPSocket.Host, t.podIP)
		if err != nil {
			return Unknown, "", err
		}
		return runTCP(ctx, host, port, timeout)
	case spec.GRPC != nil:
		host, err := probeHost("", t.podIP)
		if err != nil {
			return Unknown, "", err
		}
		service := ""
		if spec.GRPC.Service != nil {
			service = *spec.GRPC.Service
		}
		return runGRPC(ctx, host, int(spec.GRPC.Port), service, timeout)
	default:
		return Unknown, "", fmt.Errorf("missing probe handler for container %s", t.container.Name)
	}
}

func (p *prober) event(t *target, eventType, reason, messageFmt string, args ...any) {
	if p.recorder == nil {
		return
	}
	p.recorder.Eventf(t.ref, eventType, reason, messageFmt, args...)
}

// probeHost is the host a network probe dials: the one in the spec or else
// the pod IP. Without either, dialing "" would reach the node itself.
func probeHost(host, podIP string) (string, error) {
	if host != "" {
		return host, nil
	}
	if podIP == "" {
		return "", errors.New("no host to probe: the pod has no IP")
	}
	return podIP, nil
}

// resolvePort turns a port number or a container port name into a number.
func resolvePort(port intstr.IntOrString, c *corev1.Container) (int, error) {
	var n int
	switch port.Type {
	case intstr.Int:
		n = port.IntValue()
	case intstr.String:
		found := false
		for _, p := range c.Ports {
			if p.Name == port.StrVal {
				n, found = int(p.ContainerPort), true
				break
			}
		}
		if !found {
			return 0, fmt.Errorf("port %q not found", port.StrVal)
		}
	default:
		return 0, fmt.Errorf("port %v has no type", port)
	}
	if n <= 0 || n > 65535 {
		return 0, fmt.Errorf("invalid port number: %d", n)
	}
	return n, nil
}
