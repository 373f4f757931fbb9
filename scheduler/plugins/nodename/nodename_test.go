package nodename

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/capstan-dev/capstan/scheduler/framework"
	st "github.com/capstan-dev/capstan/scheduler/schedulertest"
)

func TestNodeName(t *testing.T) {
	tests := []struct {
		name      string
		nodeName  string
		wantCode  framework.Code
		wantNodes sets.Set[string]
	}{
		{name: "no node name fits any node", wantCode: framework.Success},
		{name: "the named node fits", nodeName: "n1", wantCode: framework.Success, wantNodes: sets.New("n1")},
		{name: "another node does not", nodeName: "n2", wantCode: framework.UnschedulableAndUnresolvable, wantNodes: sets.New("n2")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pl := &NodeName{}
			pod := st.MakePod("p").Node(tt.nodeName).Obj()
			res, s := pl.PreFilter(context.Background(), framework.NewCycleState(), pod, nil)
			if !s.IsSuccess() {
				t.Fatal(s)
			}
			var got sets.Set[string]
			if res != nil {
				got = res.NodeNames
			}
			if diff := cmp.Diff(tt.wantNodes, got); diff != "" {
				t.Errorf("PreFilter nodes (-want +got):\n%s", diff)
			}
			s = pl.Filter(context.Background(), nil, pod, st.NodeInfo(st.MakeNode("n1").Obj()))
			if s.Code() != tt.wantCode {
				t.Errorf("Filter = %v, want %v", s, tt.wantCode)
			}
			if !s.IsSuccess() && s.Message() != ErrReason {
				t.Errorf("reason %q", s.Message())
			}
		})
	}
}
