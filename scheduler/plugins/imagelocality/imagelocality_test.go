package imagelocality

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/capstan-dev/capstan/scheduler/framework"
	st "github.com/capstan-dev/capstan/scheduler/schedulertest"
)

func TestScore(t *testing.T) {
	withImages := func(name string, images map[string]*framework.ImageStateSummary) *framework.NodeInfo {
		ni := st.NodeInfo(st.MakeNode(name).Obj())
		ni.ImageStates = images
		return ni
	}
	big := withImages("big", map[string]*framework.ImageStateSummary{"example.com/app:latest": {Size: 500 * mb, NumNodes: 1}})
	everywhere := withImages("everywhere", map[string]*framework.ImageStateSummary{"example.com/app:v2": {Size: 500 * mb, NumNodes: 2}})
	small := withImages("small", map[string]*framework.ImageStateSummary{"example.com/app:latest": {Size: 10 * mb, NumNodes: 1}})
	none := withImages("none", nil)
	h := &st.Handle{Nodes: st.Lister{big, everywhere}}
	tests := []struct {
		name string
		pod  *v1.Pod
		node *framework.NodeInfo
		want int64
	}{
		// 500 MB on half the nodes counts 250 MB: 100 * (250-23) / (1000-23).
		{"untagged image matches :latest", st.MakePod("p").Image("example.com/app").Obj(), big, 23},
		{"image on every node counts in full", st.MakePod("p").Image("example.com/app:v2").Obj(), everywhere, 48},
		{"small images score nothing", st.MakePod("p").Image("example.com/app").Obj(), small, 0},
		{"missing image", st.MakePod("p").Image("example.com/app").Obj(), none, 0},
		{"thresholds grow with containers", st.MakePod("p").Image("example.com/app").Container("other").Obj(), big, 11},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pl, _ := New(context.Background(), h)
			got, s := pl.(*ImageLocality).Score(context.Background(), nil, tt.pod, tt.node)
			if !s.IsSuccess() || got != tt.want {
				t.Errorf("score = %d (%v), want %d", got, s, tt.want)
			}
		})
	}
}

func TestNormalizedImageName(t *testing.T) {
	for in, want := range map[string]string{
		"nginx":                  "nginx:latest",
		"nginx:1.25":             "nginx:1.25",
		"localhost:5000/nginx":   "localhost:5000/nginx:latest",
		"localhost:5000/app:1.0": "localhost:5000/app:1.0",
	} {
		if got := normalizedImageName(in); got != want {
			t.Errorf("normalizedImageName(%q) = %q, want %q", in, got, want)
		}
	}
}
