package deployment

import (
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func rollingDeployment(replicas int32, surge, unavailable intstr.IntOrString) *appsv1.Deployment {
	return &appsv1.Deployment{Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To(replicas),
		Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &surge, MaxUnavailable: &unavailable}},
	}}
}

func TestFenceposts(t *testing.T) {
	pct := intstr.FromString
	n := intstr.FromInt32
	tests := []struct {
		replicas                   int32
		surge, unavailable         intstr.IntOrString
		wantSurge, wantUnavailable int32
	}{
		// Upstream's defaults, 25% and 25%: surge rounds up, unavailability down.
		{10, pct("25%"), pct("25%"), 3, 2},
		{1, pct("25%"), pct("25%"), 1, 0},
		{3, pct("25%"), pct("25%"), 1, 0},
		{4, pct("25%"), pct("25%"), 1, 1},
		{0, pct("25%"), pct("25%"), 0, 1},
		{10, n(3), n(2), 3, 2},
		{10, pct("0%"), pct("10%"), 0, 1},
		{10, pct("100%"), pct("100%"), 10, 10},
		// Both zero would never move: one pod may go.
		{5, n(0), n(0), 0, 1},
		{5, pct("1%"), pct("1%"), 1, 0},
		{200, pct("1%"), pct("1%"), 2, 2},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d-%s-%s", tt.replicas, tt.surge.String(), tt.unavailable.String()), func(t *testing.T) {
			s, u, err := fenceposts(&tt.surge, &tt.unavailable, tt.replicas)
			if err != nil {
				t.Fatal(err)
			}
			if s != tt.wantSurge || u != tt.wantUnavailable {
				t.Errorf("fenceposts = %d, %d, want %d, %d", s, u, tt.wantSurge, tt.wantUnavailable)
			}
		})
	}
}

func TestMaxSurgeAndUnavailable(t *testing.T) {
	recreate := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](5), Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}}}
	tests := []struct {
		name                       string
		d                          *appsv1.Deployment
		wantSurge, wantUnavailable int32
	}{
		{"recreate has neither", recreate, 0, 0},
		{"no replicas, nothing unavailable", rollingDeployment(0, intstr.FromInt32(1), intstr.FromInt32(1)), 1, 0},
		{"unavailable capped at replicas", rollingDeployment(2, intstr.FromInt32(0), intstr.FromInt32(5)), 0, 2},
		{"defaults", rollingDeployment(10, intstr.FromString("25%"), intstr.FromString("25%")), 3, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := maxSurge(tt.d); got != tt.wantSurge {
				t.Errorf("maxSurge = %d, want %d", got, tt.wantSurge)
			}
			if got := maxUnavailable(tt.d); got != tt.wantUnavailable {
				t.Errorf("maxUnavailable = %d, want %d", got, tt.wantUnavailable)
			}
		})
	}
}

func TestNewReplicaSetSize(t *testing.T) {
	tests := []struct {
		name             string
		d                *appsv1.Deployment
		newSize, oldSize int32
		want             int32
	}{
		{"fresh rollout takes the surge", rollingDeployment(10, intstr.FromInt32(3), intstr.FromInt32(2)), 0, 10, 3},
		{"no room above the surge", rollingDeployment(10, intstr.FromInt32(3), intstr.FromInt32(2)), 3, 10, 3},
		{"room after old pods went", rollingDeployment(10, intstr.FromInt32(3), intstr.FromInt32(2)), 3, 8, 5},
		{"never beyond the desired count", rollingDeployment(10, intstr.FromInt32(3), intstr.FromInt32(2)), 9, 0, 10},
		{"new deployment starts whole", rollingDeployment(4, intstr.FromString("25%"), intstr.FromString("25%")), 0, 0, 4},
		{"recreate goes straight to the desired count", &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](4),
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}}}, 0, 0, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			newRS := rs("new", tt.newSize, 0)
			all := []*appsv1.ReplicaSet{rs("old", tt.oldSize, 0), newRS}
			if got := newReplicaSetSize(tt.d, all, newRS); got != tt.want {
				t.Errorf("newReplicaSetSize = %d, want %d", got, tt.want)
			}
		})
	}
}

func intstrFrom(n int32) intstr.IntOrString { return intstr.FromInt32(n) }
