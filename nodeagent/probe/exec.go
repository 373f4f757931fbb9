package probe

import (
	"context"
	"errors"
	"fmt"
	"github.com/capstan-dev/capstan/nodeagent/podenv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
	remote "k8s.io/cri-client/pkg"
)

// execGrace is how long past its own timeout an ExecSync call may take before
// the probe gives up on the runtime; the runtime enforces the timeout itself.
const execGrace = 5 * time.Second

// runExec runs cmd in the container: exit 0 is a success, any other exit
// code a failure with the command's output as the message.
func runExec(ctx context.Context, execer Execer, containerID string, cmd []string, timeout time.Duration) (Outcome, string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout+execGrace)
	defer cancel()
	stdout, stderr, code, err := execer.ExecSync(ctx, containerID, cmd, timeout)
	if err != nil {
		var exit interface{ ExitStatus() int }
		switch {
		case isTimeout(err) && ctx.Err() != context.Canceled:
			// The kubelet's wording for a runtime-enforced exec timeout.
			return Failure, fmt.Sprintf("command timed out: %q timed out after %s", strings.Join(cmd, " "), timeout), nil
		case errors.As(err, &exit):
			code = int32(exit.ExitStatus())
		default:
			return Unknown, "", fmt.Errorf("running probe command in container %s: %w", containerID, err)
		}
	}
	out := limitOutput(append(append([]byte{}, stdout...), stderr...))
	if code != 0 {
		return Failure, out, nil
	}
	return Success, out, nil
}

// isTimeout recognises the ways a runtime reports an exec past its timeout:
// cri-client's sentinel, a gRPC DeadlineExceeded, or a context deadline.
func isTimeout(err error) bool {
	return errors.Is(err, remote.ErrCommandTimedOut) ||
		errors.Is(err, context.DeadlineExceeded) ||
		status.Code(err) == codes.DeadlineExceeded
}

func limitOutput(b []byte) string {
	if len(b) > maxOutputBytes {
		b = b[:maxOutputBytes]
	}
	return string(b)
}

// expandStaticEnv replaces $(NAME) references in cmd with the values the
// container's env gives literally, as the kubelet does for exec probes:
// valueFrom variables expand to "", unknown names stay as written, and "$$"
// escapes a "$".
func expandStaticEnv(cmd []string, env []corev1.EnvVar) []string {
	if len(cmd) == 0 {
		return nil
	}
	vars := make(map[string]string, len(env))
	for _, e := range env {
		vars[e.Name] = e.Value
	}
	out := make([]string, 0, len(cmd))
	for _, arg := range cmd {
		out = append(out, podenv.Expand(arg, vars))
	}
	return out
}
