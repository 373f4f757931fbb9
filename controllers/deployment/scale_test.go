package deployment

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestProportionalSizes(t *testing.T) {
	surge3 := func(replicas int32) *appsv1.Deployment {
		return rollingDeployment(replicas, intstr.FromInt32(3), intstr.FromInt32(2))
	}
	tests := []struct {
		name string
		d    *appsv1.Deployment
		rss  []*appsv1.ReplicaSet
		want map[string]int32
	}{
		{
			name: "scale up mid-rollout: 8 old and 5 new of 13 become 14 and 9 of 23",
			d:    surge3(20),
			rss:  []*appsv1.ReplicaSet{withSizedFor(rs("a", 8, 8), 10, 13), withSizedFor(rs("b", 5, 0), 10, 13)},
			want: map[string]int32{"a": 14, "b": 9},
		},
		{
			name: "scale down mid-rollout: 8 old and 5 new of 13 become 5 and 3 of 8",
			d:    surge3(5),
			rss:  []*appsv1.ReplicaSet{withSizedFor(rs("a", 8, 8), 10, 13), withSizedFor(rs("b", 5, 0), 10, 13)},
			want: map[string]int32{"a": 5, "b": 3},
		},
		{
			name: "equal sizes growing: the newest first",
			d:    rollingDeployment(5, intstr.FromInt32(0), intstr.FromInt32(1)),
			rss:  []*appsv1.ReplicaSet{withSizedFor(rs("a", 1, 1), 3, 3), withSizedFor(rs("b", 1, 1), 3, 3), withSizedFor(rs("c", 1, 1), 3, 3)},
			want: map[string]int32{"a": 1, "b": 2, "c": 2},
		},
		{
			name: "equal sizes shrinking: the oldest first",
			d:    rollingDeployment(1, intstr.FromInt32(0), intstr.FromInt32(1)),
			rss:  []*appsv1.ReplicaSet{withSizedFor(rs("a", 1, 1), 3, 3), withSizedFor(rs("b", 1, 1), 3, 3), withSizedFor(rs("c", 1, 1), 3, 3)},
			want: map[string]int32{"a": 0, "b": 0, "c": 1},
		},
		{
			name: "to zero",
			d:    surge3(0),
			rss:  []*appsv1.ReplicaSet{withSizedFor(rs("a", 8, 8), 10, 13), withSizedFor(rs("b", 5, 0), 10, 13)},
			want: map[string]int32{"a": 0, "b": 0},
		},
		{
			name: "without max-replicas annotations the deployment's status size is the base",
			d: func() *appsv1.Deployment {
				d := surge3(20)
				d.Status.Replicas = 13
				return d
			}(),
			rss:  []*appsv1.ReplicaSet{rs("a", 8, 8), rs("b", 5, 0)},
			want: map[string]int32{"a": 14, "b": 9},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var allowed int32
			if desired(tt.d) > 0 {
				allowed = desired(tt.d) + maxSurge(tt.d)
			}
			got := proportionalSizes(tt.d, tt.rss, allowed-totalSize(tt.rss))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("sizes (-want +got):\n%s", diff)
			}
			var sum int32
			for _, n := range got {
				sum += n
			}
			if sum != allowed {
				t.Errorf("sizes add up to %d, want %d", sum, allowed)
			}
		})
	}
}

func TestActiveOrLatest(t *testing.T) {
	a, b, c := rs("a", 0, 0), rs("b", 3, 3), rs("c", 0, 0)
	tests := []struct {
		name  string
		newRS *appsv1.ReplicaSet
		old   []*appsv1.ReplicaSet
		want  *appsv1.ReplicaSet
	}{
		{"the only active one", c, []*appsv1.ReplicaSet{a, b}, b},
		{"none active: the new one", c, []*appsv1.ReplicaSet{a}, c},
		{"none active, no new one: the newest old one", nil, []*appsv1.ReplicaSet{a, c}, c},
		{"several active", rs("d", 1, 0), []*appsv1.ReplicaSet{b}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := activeOrLatest(tt.newRS, tt.old); got != tt.want {
				t.Errorf("activeOrLatest = %v, want %v", got, tt.want)
			}
		})
	}
}
