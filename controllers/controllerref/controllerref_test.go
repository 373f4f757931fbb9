package controllerref

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

var kind = appsv1.SchemeGroupVersion.WithKind("ReplicaSet")

func owner(deleting bool) *appsv1.ReplicaSet {
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "owner"}}
	if deleting {
		ts := metav1.Now()
		rs.DeletionTimestamp = &ts
	}
	return rs
}

func pod(name, app string, controller types.UID) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name), Labels: map[string]string{"app": app}}}
	if controller != "" {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "x", UID: controller, Controller: ptr.To(true)}}
	}
	return p
}

func TestClaim(t *testing.T) {
	tests := []struct {
		name        string
		owner       *appsv1.ReplicaSet
		pods        []*corev1.Pod
		recheckErr  error
		patchErr    error
		wantClaimed []string
		wantPatched []string
		wantErr     bool
	}{
		{
			name:        "keeps owned matching, adopts matching orphans, releases owned non-matching, ignores the rest",
			owner:       owner(false),
			pods:        []*corev1.Pod{pod("mine", "web", "owner"), pod("orphan", "web", ""), pod("strayed", "db", "owner"), pod("other", "web", "someone"), pod("stranger", "db", "")},
			wantClaimed: []string{"mine", "orphan"},
			wantPatched: []string{"orphan", "strayed"},
		},
		{
			name:        "an owner being deleted neither adopts nor releases",
			owner:       owner(true),
			pods:        []*corev1.Pod{pod("mine", "web", "owner"), pod("orphan", "web", ""), pod("strayed", "db", "owner")},
			wantClaimed: []string{"mine"},
		},
		{
			name:       "no adoption when the recheck fails",
			owner:      owner(false),
			pods:       []*corev1.Pod{pod("orphan", "web", ""), pod("orphan2", "web", "")},
			recheckErr: errors.New("gone"),
			wantErr:    true,
		},
		{
			name:     "an orphan deleted meanwhile is skipped",
			owner:    owner(false),
			pods:     []*corev1.Pod{pod("orphan", "web", "")},
			patchErr: apierrors.NewNotFound(schema.GroupResource{Resource: "pods"}, "orphan"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var patched []string
			rechecks := 0
			c := &Claimer{
				Owner: tt.owner, Kind: kind, Selector: labels.SelectorFromSet(labels.Set{"app": "web"}),
				Patch: func(_ context.Context, name string, _ []byte) error {
					patched = append(patched, name)
					return tt.patchErr
				},
				Recheck: func(context.Context) error { rechecks++; return tt.recheckErr },
			}
			claimed, err := Claim(context.Background(), c, tt.pods)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			var names []string
			for _, p := range claimed {
				names = append(names, p.Name)
			}
			if diff := cmp.Diff(tt.wantClaimed, names); diff != "" {
				t.Errorf("claimed (-want +got):\n%s", diff)
			}
			if tt.patchErr == nil {
				if diff := cmp.Diff(tt.wantPatched, patched); diff != "" {
					t.Errorf("patched (-want +got):\n%s", diff)
				}
			}
			if rechecks > 1 {
				t.Errorf("owner rechecked %d times, want at most once", rechecks)
			}
		})
	}
}

func TestPatches(t *testing.T) {
	adopt, err := AdoptPatch(owner(false), kind, "dep")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(adopt, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"metadata": map[string]any{"uid": "dep", "ownerReferences": []any{map[string]any{
		"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web", "uid": "owner", "controller": true, "blockOwnerDeletion": true,
	}}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("adopt patch (-want +got):\n%s", diff)
	}
	release, err := ReleasePatch("owner", "dep")
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"metadata":{"uid":"dep","ownerReferences":[{"$patch":"delete","uid":"owner"}]}}`; string(release) != want {
		t.Errorf("release patch = %s, want %s", release, want)
	}
}

func TestIndex(t *testing.T) {
	indexer := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{IndexName: indexByController})
	for _, p := range []*corev1.Pod{pod("a", "web", "owner"), pod("b", "web", ""), pod("c", "web", "other")} {
		if err := indexer.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	other := pod("d", "web", "")
	other.Namespace = "elsewhere"
	if err := indexer.Add(other); err != nil {
		t.Fatal(err)
	}
	owned, err := Owned[*corev1.Pod](indexer, "owner")
	if err != nil || len(owned) != 1 || owned[0].Name != "a" {
		t.Errorf("owned = %v, %v", owned, err)
	}
	orphans, err := Orphans[*corev1.Pod](indexer, "ns")
	if err != nil || len(orphans) != 1 || orphans[0].Name != "b" {
		t.Errorf("orphans = %v, %v", orphans, err)
	}
}
