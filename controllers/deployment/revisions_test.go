package deployment

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

func TestAnnotateNewReplicaSet(t *testing.T) {
	tests := []struct {
		name        string
		deployment  map[string]string
		rs          map[string]string
		newRevision int64
		creating    bool
		want        map[string]string
		wantChanged bool
	}{
		{
			name:        "new replica set gets revision, sizes and the deployment's annotations",
			deployment:  map[string]string{"team": "a", RevisionAnnotation: "4", corev1.LastAppliedConfigAnnotation: "{}"},
			rs:          map[string]string{},
			newRevision: 5,
			creating:    true,
			want:        map[string]string{"team": "a", RevisionAnnotation: "5", DesiredReplicasAnnotation: "4", MaxReplicasAnnotation: "5"},
			wantChanged: true,
		},
		{
			name:        "reused replica set (rollback) moves its old revision to the history",
			deployment:  map[string]string{},
			rs:          map[string]string{RevisionAnnotation: "2", RevisionHistoryAnnotation: "1"},
			newRevision: 4,
			want:        map[string]string{RevisionAnnotation: "4", RevisionHistoryAnnotation: "1,2"},
			wantChanged: true,
		},
		{
			name:        "up to date",
			deployment:  map[string]string{"team": "a"},
			rs:          map[string]string{"team": "a", RevisionAnnotation: "3"},
			newRevision: 3,
			want:        map[string]string{"team": "a", RevisionAnnotation: "3"},
		},
		{
			name:        "never lowers a revision",
			deployment:  map[string]string{},
			rs:          map[string]string{RevisionAnnotation: "7"},
			newRevision: 3,
			want:        map[string]string{RevisionAnnotation: "7"},
		},
		{
			name:        "an unreadable revision is left alone",
			deployment:  map[string]string{},
			rs:          map[string]string{RevisionAnnotation: "x"},
			newRevision: 3,
			want:        map[string]string{RevisionAnnotation: "x"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := deployment("img", 4)
			d.Annotations = tt.deployment
			r := rs("a", 0, 0)
			r.Annotations = tt.rs
			changed := annotateNewReplicaSet(d, r, tt.newRevision, tt.creating)
			if changed != tt.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tt.wantChanged)
			}
			if diff := cmp.Diff(tt.want, r.Annotations); diff != "" {
				t.Errorf("annotations (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAppendHistory(t *testing.T) {
	var long []string
	for i := 1; len(strings.Join(long, ",")) < maxRevisionHistory-5; i++ {
		long = append(long, strconv.Itoa(i*1000))
	}
	full := strings.Join(long, ",")
	got := appendHistory(full, "123456")
	if len(got) > maxRevisionHistory || !strings.HasSuffix(got, ",123456") || strings.HasPrefix(got, "1000,") {
		t.Errorf("history of %d chars, starting %q", len(got), got[:20])
	}
	if got := appendHistory("", "3"); got != "3" {
		t.Errorf("empty history + 3 = %q", got)
	}
}

func TestRevisions(t *testing.T) {
	rss := []*appsv1.ReplicaSet{withRevision(rs("a", 0, 0), 3), withRevision(rs("b", 0, 0), 9), withRevision(rs("c", 0, 0), 5), rs("d", 0, 0)}
	rss[3].Annotations[RevisionAnnotation] = "garbage"
	if got := maxRevision(rss); got != 9 {
		t.Errorf("maxRevision = %d, want 9", got)
	}
	if got := previousRevision(rss); got != 5 {
		t.Errorf("previousRevision = %d, want 5", got)
	}
	byRevision(rss)
	var order []string
	for _, r := range rss {
		order = append(order, r.Name)
	}
	// The unreadable one sorts by creation among the others.
	if diff := cmp.Diff([]string{"a", "c", "b", "d"}, order); diff != "" {
		t.Errorf("byRevision (-want +got):\n%s", diff)
	}
}

func TestSplitReplicaSets(t *testing.T) {
	d := deployment("image-b", 1)
	a, b, b2 := rs("a", 1, 1), rs("b", 1, 1), rs("c", 1, 1)
	b.Spec.Template.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = "hash"
	b2.Spec.Template = *template("image-b")
	newRS, old := splitReplicaSets(d, []*appsv1.ReplicaSet{b2, a, b})
	if newRS != b || len(old) != 2 {
		t.Errorf("new = %v, old = %v; want the oldest matching template (ignoring the hash label)", newRS.Name, len(old))
	}
}
