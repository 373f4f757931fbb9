package controllerref

import (
	"context"
	"errors"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	appslisters "k8s.io/client-go/listers/apps/v1"
	"k8s.io/client-go/tools/cache"
)

// replicaSet is an owner in namespace ns with the given selector.
func replicaSet(name string, selector *metav1.LabelSelector) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name)},
		Spec:       appsv1.ReplicaSetSpec{Selector: selector},
	}
}

func matchApp(app string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}
}

func resolverOf(t *testing.T, owners ...*appsv1.ReplicaSet) *Resolver[*appsv1.ReplicaSet] {
	t.Helper()
	indexer := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	for _, o := range owners {
		if err := indexer.Add(o); err != nil {
			t.Fatal(err)
		}
	}
	lister := appslisters.NewReplicaSetLister(indexer)
	return &Resolver[*appsv1.ReplicaSet]{
		Kind: "ReplicaSet",
		Get: func(namespace, name string) (*appsv1.ReplicaSet, error) {
			return lister.ReplicaSets(namespace).Get(name)
		},
		List: func(namespace string) ([]*appsv1.ReplicaSet, error) {
			return lister.ReplicaSets(namespace).List(labels.Everything())
		},
		Selector: func(rs *appsv1.ReplicaSet) *metav1.LabelSelector { return rs.Spec.Selector },
	}
}

func TestResolverOwner(t *testing.T) {
	r := resolverOf(t, replicaSet("web", matchApp("web")))
	ref := func(kind, name string, uid types.UID) *metav1.OwnerReference {
		return &metav1.OwnerReference{APIVersion: "apps/v1", Kind: kind, Name: name, UID: uid}
	}
	tests := []struct {
		name string
		ref  *metav1.OwnerReference
		want string
	}{
		{name: "names the owner", ref: ref("ReplicaSet", "web", "uid-web"), want: "web"},
		{name: "no reference", ref: nil},
		{name: "another kind", ref: ref("Deployment", "web", "uid-web")},
		{name: "owner gone", ref: ref("ReplicaSet", "gone", "uid-gone")},
		{name: "owner replaced under the same name", ref: ref("ReplicaSet", "web", "uid-old")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.Owner("ns", tt.ref)
			var name string
			if got != nil {
				name = got.Name
			}
			if name != tt.want {
				t.Errorf("Owner = %q, want %q", name, tt.want)
			}
		})
	}
}

func TestResolverSelecting(t *testing.T) {
	r := resolverOf(t,
		replicaSet("web", matchApp("web")),
		replicaSet("also-web", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{"web", "db"}}}}),
		replicaSet("db", matchApp("db")),
		replicaSet("everything", &metav1.LabelSelector{}),
		replicaSet("invalid", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "app", Operator: "Bogus"}}}),
	)
	tests := []struct {
		name      string
		namespace string
		labels    map[string]string
		want      []string
	}{
		{name: "matching selectors only", namespace: "ns", labels: map[string]string{"app": "web"}, want: []string{"also-web", "web"}},
		{name: "no match", namespace: "ns", labels: map[string]string{"app": "cache"}},
		{name: "other namespace", namespace: "elsewhere", labels: map[string]string{"app": "web"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, o := range r.Selecting(tt.namespace, tt.labels) {
				got = append(got, o.Name)
			}
			sort.Strings(got) // List has no order
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Selecting (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRecheckOwner(t *testing.T) {
	deleting := metav1.Now()
	gone := apierrors.NewNotFound(appsv1.Resource("replicasets"), "web")
	tests := []struct {
		name     string
		fresh    *appsv1.ReplicaSet
		fetchErr error
		wantErr  string
	}{
		{name: "still there", fresh: owner(false)},
		{name: "fetch fails", fetchErr: gone, wantErr: gone.Error()},
		{name: "replaced", fresh: &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "new"}},
			wantErr: "ReplicaSet ns/web was replaced"},
		{name: "being deleted", fresh: &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "owner", DeletionTimestamp: &deleting}},
			wantErr: "ReplicaSet ns/web is being deleted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fetched string
			recheck := RecheckOwner(owner(false), "ReplicaSet", func(_ context.Context, namespace, name string) (*appsv1.ReplicaSet, error) {
				fetched = namespace + "/" + name
				return tt.fresh, tt.fetchErr
			})
			err := recheck(context.Background())
			var got string
			if err != nil {
				got = err.Error()
			}
			if got != tt.wantErr {
				t.Errorf("err = %q, want %q", got, tt.wantErr)
			}
			if tt.fetchErr != nil && !errors.Is(err, tt.fetchErr) {
				t.Errorf("err = %v, want it to be the fetch error", err)
			}
			if fetched != "ns/web" {
				t.Errorf("fetched %q, want ns/web", fetched)
			}
		})
	}
}
