package scale

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestValidateStatusCounters(t *testing.T) {
	p := field.NewPath("status")
	tests := []struct {
		name     string
		counters []Counter
		replicas int64
		ready    int64
		avail    int64
		want     []string
	}{
		{"consistent", []Counter{{Field: "replicas", Value: 3}, {Field: "readyReplicas", Value: 2, AtMostReplicas: true}}, 3, 2, 1, nil},
		{"negative, then over replicas, then available over ready",
			[]Counter{
				{Field: "replicas", Value: 1},
				{Field: "observedGeneration", Value: -1},
				{Field: "readyReplicas", Value: 2, AtMostReplicas: true},
				{Field: "availableReplicas", Value: 3, AtMostReplicas: true},
			}, 1, 2, 3,
			[]string{
				"status.observedGeneration: Invalid value: -1: must be greater than or equal to 0",
				"status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas",
				"status.availableReplicas: Invalid value: 3: cannot be greater than status.replicas",
				"status.availableReplicas: Invalid value: 3: cannot be greater than readyReplicas",
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, e := range ValidateStatusCounters(p, tc.replicas, tc.counters, tc.ready, tc.avail, "readyReplicas") {
				got = append(got, e.Error())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
