package integration

import (
	"context"
	"encoding/json"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/capstan-dev/capstan/test/integration/framework"
	"github.com/capstan-dev/capstan/test/integration/upstream"
)

// inScope are the group-versions the control-plane foundation serves; each
// must match kube-apiserver 1.37's discovery exactly.
var inScope = []schema.GroupVersion{
	{Version: "v1"},
	{Group: "apps", Version: "v1"},
	{Group: "batch", Version: "v1"},
	{Group: "coordination.k8s.io", Version: "v1"},
	{Group: "discovery.k8s.io", Version: "v1"},
	{Group: "events.k8s.io", Version: "v1"},
	{Group: "policy", Version: "v1"},
	{Group: "scheduling.k8s.io", Version: "v1"},
	{Group: "autoscaling", Version: "v1"},
	{Group: "autoscaling", Version: "v2"},
	{Group: "networking.k8s.io", Version: "v1"},
	{Group: "node.k8s.io", Version: "v1"},
	{Group: "storage.k8s.io", Version: "v1"},
}

// discoveryFile names a group-version's document in api/discovery.
func discoveryFile(gv schema.GroupVersion) string {
	if gv.Group == "" {
		return "api/discovery/api__v1.json"
	}
	return "api/discovery/apis__" + gv.Group + "__" + gv.Version + ".json"
}

func path(gv schema.GroupVersion) string {
	if gv.Group == "" {
		return "/api/v1"
	}
	return "/apis/" + gv.Group + "/" + gv.Version
}

// normalize sorts what upstream does not promise an order for.
func normalize(list []metav1.APIResource) []metav1.APIResource {
	out := append([]metav1.APIResource(nil), list...)
	for i := range out {
		sort.Strings(out[i].Verbs)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func TestLegacyDiscoveryMatchesUpstream(t *testing.T) {
	s := framework.Start(t)
	client := s.Client(t)
	for _, gv := range inScope {
		t.Run(gv.String(), func(t *testing.T) {
			data, err := upstream.Read(discoveryFile(gv))
			if err != nil {
				t.Fatal(err)
			}
			var want metav1.APIResourceList
			if err := json.Unmarshal(data, &want); err != nil {
				t.Fatal(err)
			}
			raw, err := client.Discovery().RESTClient().Get().AbsPath(path(gv)).
				SetHeader("Accept", "application/json").Do(context.Background()).Raw()
			if err != nil {
				t.Fatal(err)
			}
			var got metav1.APIResourceList
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(normalize(want.APIResources), normalize(got.APIResources)); diff != "" {
				t.Errorf("discovery of %s differs from kube-apiserver 1.37 (-want +got):\n%s", gv, diff)
			}
		})
	}
}

func TestAggregatedDiscoveryMatchesUpstream(t *testing.T) {
	s := framework.Start(t)
	client := s.Client(t)
	data, err := upstream.Read("api/discovery/aggregated_v2.json")
	if err != nil {
		t.Fatal(err)
	}
	var want apidiscoveryv2.APIGroupDiscoveryList
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	raw, err := client.Discovery().RESTClient().Get().AbsPath("/apis").
		SetHeader("Accept", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList").Do(context.Background()).Raw()
	if err != nil {
		t.Fatal(err)
	}
	var got apidiscoveryv2.APIGroupDiscoveryList
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	find := func(l apidiscoveryv2.APIGroupDiscoveryList, gv schema.GroupVersion) *apidiscoveryv2.APIVersionDiscovery {
		for _, g := range l.Items {
			if g.Name != gv.Group {
				continue
			}
			for i := range g.Versions {
				if g.Versions[i].Version == gv.Version {
					return &g.Versions[i]
				}
			}
		}
		return nil
	}
	for _, gv := range inScope {
		if gv.Group == "" {
			continue // /api is aggregated separately and covered by the legacy document
		}
		t.Run(gv.String(), func(t *testing.T) {
			w, g := find(want, gv), find(got, gv)
			if w == nil {
				t.Fatalf("upstream document lacks %s", gv)
			}
			if g == nil {
				t.Fatalf("%s missing from aggregated discovery", gv)
			}
			sortAgg := func(v *apidiscoveryv2.APIVersionDiscovery) []apidiscoveryv2.APIResourceDiscovery {
				out := append([]apidiscoveryv2.APIResourceDiscovery(nil), v.Resources...)
				for i := range out {
					sort.Strings(out[i].Verbs)
					sort.Slice(out[i].Subresources, func(a, b int) bool { return out[i].Subresources[a].Subresource < out[i].Subresources[b].Subresource })
				}
				sort.Slice(out, func(a, b int) bool { return out[a].Resource < out[b].Resource })
				return out
			}
			if diff := cmp.Diff(sortAgg(w), sortAgg(g)); diff != "" {
				t.Errorf("aggregated discovery of %s differs from kube-apiserver 1.37 (-want +got):\n%s", gv, diff)
			}
		})
	}
	// Group order follows upstream's APIService priorities.
	var wantOrder, gotOrder []string
	scope := map[string]bool{}
	for _, gv := range inScope {
		scope[gv.Group] = true
	}
	for _, g := range want.Items {
		if scope[g.Name] {
			wantOrder = append(wantOrder, g.Name)
		}
	}
	for _, g := range got.Items {
		if scope[g.Name] {
			gotOrder = append(gotOrder, g.Name)
		}
	}
	if diff := cmp.Diff(wantOrder, gotOrder); diff != "" {
		t.Errorf("group order differs (-want +got):\n%s", diff)
	}
}
