package schedulinggates

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/capstan-dev/capstan/scheduler/framework"
	st "github.com/capstan-dev/capstan/scheduler/schedulertest"
)

func TestPreEnqueue(t *testing.T) {
	tests := []struct {
		name    string
		pod     *v1.Pod
		want    framework.Code
		wantMsg string
	}{
		{name: "no gates", pod: st.MakePod("p").Obj(), want: framework.Success},
		{name: "one gate", pod: st.MakePod("p").Gate("example.com/a").Obj(), want: framework.UnschedulableAndUnresolvable,
			wantMsg: "waiting for scheduling gates: [example.com/a]"},
		{name: "two gates", pod: st.MakePod("p").Gate("a").Gate("b").Obj(), want: framework.UnschedulableAndUnresolvable,
			wantMsg: "waiting for scheduling gates: [a b]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := (&SchedulingGates{}).PreEnqueue(context.Background(), tt.pod)
			if s.Code() != tt.want || s.Message() != tt.wantMsg {
				t.Errorf("PreEnqueue = %v, want %v %q", s, tt.want, tt.wantMsg)
			}
		})
	}
}
