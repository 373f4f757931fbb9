package probe

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
	remote "k8s.io/cri-client/pkg"
)

// execFunc adapts a function to Execer.
type execFunc func(ctx context.Context, containerID string, cmd []string, timeout time.Duration) ([]byte, []byte, int32, error)

func (f execFunc) ExecSync(ctx context.Context, containerID string, cmd []string, timeout time.Duration) ([]byte, []byte, int32, error) {
	return f(ctx, containerID, cmd, timeout)
}

// exitError is what k8s.io/utils/exec reports for a non-zero exit.
type exitError int

func (e exitError) Error() string   { return fmt.Sprintf("exit status %d", int(e)) }
func (e exitError) ExitStatus() int { return int(e) }

func TestRunExec(t *testing.T) {
	long := strings.Repeat("x", maxOutputBytes+100)
	tests := []struct {
		name        string
		stdout      string
		stderr      string
		code        int32
		err         error
		wantOutcome Outcome
		wantOutput  string
		wantErr     bool
	}{
		{name: "exit 0", stdout: "ok\n", wantOutcome: Success, wantOutput: "ok\n"},
		{name: "exit 1 keeps stdout and stderr", stdout: "out\n", stderr: "err\n", code: 1, wantOutcome: Failure, wantOutput: "out\nerr\n"},
		{name: "output limited to 10KiB", stdout: long, code: 2, wantOutcome: Failure, wantOutput: long[:maxOutputBytes]},
		{name: "exit error", stderr: "boom", err: exitError(3), wantOutcome: Failure, wantOutput: "boom"},
		{name: "exit error 0", stdout: "fine", err: exitError(0), wantOutcome: Success, wantOutput: "fine"},
		{
			name:        "timeout as context deadline",
			err:         fmt.Errorf("exec: %w", context.DeadlineExceeded),
			wantOutcome: Failure,
			wantOutput:  `command timed out: "sh -c sleep 5" timed out after 1s`,
		},
		{
			name:        "timeout as gRPC status",
			err:         status.Error(codes.DeadlineExceeded, "deadline"),
			wantOutcome: Failure,
			wantOutput:  `command timed out: "sh -c sleep 5" timed out after 1s`,
		},
		{
			name:        "timeout from cri-client",
			err:         fmt.Errorf("%w: %q timed out after %s", remote.ErrCommandTimedOut, "sh -c sleep 5", time.Second),
			wantOutcome: Failure,
			wantOutput:  `command timed out: "sh -c sleep 5" timed out after 1s`,
		},
		{name: "runtime error", err: errors.New("container not running"), wantOutcome: Unknown, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var gotCmd []string
			var gotTimeout time.Duration
			execer := execFunc(func(_ context.Context, id string, cmd []string, timeout time.Duration) ([]byte, []byte, int32, error) {
				if id != "cid" {
					t.Errorf("container ID %q, want cid", id)
				}
				gotCmd, gotTimeout = cmd, timeout
				return []byte(tc.stdout), []byte(tc.stderr), tc.code, tc.err
			})
			cmd := []string{"sh", "-c", "sleep 5"}
			outcome, output, err := runExec(context.Background(), execer, "cid", cmd, time.Second)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if outcome != tc.wantOutcome {
				t.Errorf("outcome = %q, want %q", outcome, tc.wantOutcome)
			}
			if output != tc.wantOutput {
				t.Errorf("output (-want +got):\n%s", cmp.Diff(tc.wantOutput, output))
			}
			if diff := cmp.Diff(cmd, gotCmd); diff != "" {
				t.Errorf("command (-want +got):\n%s", diff)
			}
			if gotTimeout != time.Second {
				t.Errorf("timeout = %v, want 1s", gotTimeout)
			}
		})
	}
}

func TestExpandStaticEnv(t *testing.T) {
	env := []corev1.EnvVar{
		{Name: "FILE", Value: "/tmp/healthy"},
		{Name: "FROM_SECRET", ValueFrom: &corev1.EnvVarSource{}},
	}
	tests := []struct {
		in   string
		want string
	}{
		{in: "cat $(FILE)", want: "cat /tmp/healthy"},
		{in: "$(FILE)$(FILE)", want: "/tmp/healthy/tmp/healthy"},
		{in: "x$(FROM_SECRET)y", want: "xy"},
		{in: "$(MISSING)", want: "$(MISSING)"},
		{in: "$$(FILE)", want: "$(FILE)"},
		{in: "$HOME and $", want: "$HOME and $"},
		{in: "$(UNCLOSED", want: "$(UNCLOSED"},
		{in: "plain", want: "plain"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got := expandStaticEnv([]string{tc.in}, env)
			if diff := cmp.Diff([]string{tc.want}, got); diff != "" {
				t.Errorf("expandStaticEnv(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}
