package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"

	"github.com/capstan-dev/capstan/test/integration/framework"
)

// badRequest is one malformed or invalid request body and the answers upstream gives it.
type badRequest struct {
	name        string
	body        func(gvk schema.GroupVersionKind, name string) []byte
	contentType string
	query       string
	wantCodes   []int
}

func objectJSON(gvk schema.GroupVersionKind, name string, extra string) []byte {
	return []byte(fmt.Sprintf(`{"apiVersion":%q,"kind":%q,"metadata":{"name":%q}%s}`, gvk.GroupVersion().String(), gvk.Kind, name, extra))
}

var badRequests = []badRequest{
	{name: "malformed json", contentType: "application/json", wantCodes: []int{400},
		body: func(schema.GroupVersionKind, string) []byte { return []byte(`{"apiVersion": "v1", "kind":`) }},
	{name: "malformed yaml", contentType: "application/yaml", wantCodes: []int{400},
		body: func(schema.GroupVersionKind, string) []byte { return []byte("apiVersion: v1\nkind: [unclosed\n  - :") }},
	{name: "not an object", contentType: "application/json", wantCodes: []int{400},
		body: func(schema.GroupVersionKind, string) []byte { return []byte(`[1,2,3]`) }},
	{name: "wrong apiVersion", contentType: "application/json", wantCodes: []int{400},
		body: func(gvk schema.GroupVersionKind, name string) []byte {
			return []byte(fmt.Sprintf(`{"apiVersion":"nonsense.example.com/v9","kind":%q,"metadata":{"name":%q}}`, gvk.Kind, name))
		}},
	{name: "wrong kind", contentType: "application/json", wantCodes: []int{400},
		body: func(gvk schema.GroupVersionKind, name string) []byte {
			return []byte(fmt.Sprintf(`{"apiVersion":%q,"kind":"NoSuchKind","metadata":{"name":%q}}`, gvk.GroupVersion().String(), name))
		}},
	{name: "unknown field under Strict", contentType: "application/json", query: "fieldValidation=Strict", wantCodes: []int{400},
		body: func(gvk schema.GroupVersionKind, name string) []byte { return objectJSON(gvk, name, `,"bogusField":1`) }},
	{name: "duplicate field under Strict", contentType: "application/json", query: "fieldValidation=Strict", wantCodes: []int{400},
		body: func(gvk schema.GroupVersionKind, name string) []byte {
			return []byte(fmt.Sprintf(`{"apiVersion":%q,"kind":%q,"metadata":{"name":%q,"name":%q}}`, gvk.GroupVersion().String(), gvk.Kind, name, name))
		}},
	{name: "invalid name", contentType: "application/json", wantCodes: []int{422},
		body: func(gvk schema.GroupVersionKind, _ string) []byte { return objectJSON(gvk, "Not_A_Valid..Name", "") }},
	{name: "invalid label", contentType: "application/json", wantCodes: []int{422},
		body: func(gvk schema.GroupVersionKind, name string) []byte {
			return []byte(fmt.Sprintf(`{"apiVersion":%q,"kind":%q,"metadata":{"name":%q,"labels":{"bad key!":"v"}}}`, gvk.GroupVersion().String(), gvk.Kind, name))
		}},
	{name: "body over 3 MiB", contentType: "application/json", wantCodes: []int{413},
		body: func(gvk schema.GroupVersionKind, name string) []byte {
			return objectJSON(gvk, name, `,"metadata2":"`+strings.Repeat("x", 3<<20+1024)+`"`)
		}},
	// Invalid options are 422 Invalid CreateOptions upstream, not 400.
	{name: "invalid dryRun value", contentType: "application/json", query: "dryRun=Maybe", wantCodes: []int{422},
		body: func(gvk schema.GroupVersionKind, name string) []byte { return objectJSON(gvk, name, "") }},
	{name: "invalid fieldValidation value", contentType: "application/json", query: "fieldValidation=Loose", wantCodes: []int{422},
		body: func(gvk schema.GroupVersionKind, name string) []byte { return objectJSON(gvk, name, "") }},
}

// servedResources lists every top-level resource of the in-scope group-versions that supports create.
func servedResources(t *testing.T, cfg *rest.Config) []metav1.APIResource {
	t.Helper()
	var out []metav1.APIResource
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, gv := range inScope {
		resp, err := client.Get(cfg.Host + path(gv))
		if err != nil {
			t.Fatal(err)
		}
		var list metav1.APIResourceList
		err = json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range list.APIResources {
			if strings.Contains(r.Name, "/") || !hasVerb(r.Verbs, "create") {
				continue
			}
			r.Group, r.Version = gv.Group, gv.Version
			out = append(out, r)
		}
	}
	return out
}

func hasVerb(verbs []string, v string) bool {
	for _, x := range verbs {
		if x == v {
			return true
		}
	}
	return false
}

func TestBadInputGetsStatus4xx(t *testing.T) {
	s := framework.Start(t)
	c := s.Client(t)
	newNamespace(t, c, "bad")
	httpClient, err := rest.HTTPClientFor(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	resources := servedResources(t, s.Config)
	if len(resources) < 40 {
		t.Fatalf("only %d creatable resources discovered", len(resources))
	}
	for _, r := range resources {
		gvk := schema.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind}
		url := s.Config.Host + path(gvk.GroupVersion())
		if r.Namespaced {
			url += "/namespaces/bad"
		}
		url += "/" + r.Name
		for _, br := range badRequests {
			t.Run(gvk.GroupVersion().String()+"/"+r.Name+"/"+br.name, func(t *testing.T) {
				u := url
				if br.query != "" {
					u += "?" + br.query
				}
				req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, u, strings.NewReader(string(br.body(gvk, "bad-input"))))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", br.contentType)
				req.Header.Set("Accept", "application/json")
				resp, err := httpClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var status metav1.Status
				decodeErr := json.NewDecoder(resp.Body).Decode(&status)
				if resp.StatusCode >= 500 {
					t.Fatalf("status %d (server error) for %s: %+v", resp.StatusCode, br.name, status)
				}
				ok := false
				for _, code := range br.wantCodes {
					ok = ok || resp.StatusCode == code
				}
				if !ok {
					t.Errorf("status %d, want one of %v: %+v", resp.StatusCode, br.wantCodes, status)
				}
				if decodeErr != nil || status.Kind != "Status" || status.Status != metav1.StatusFailure || int(status.Code) != resp.StatusCode || status.Reason == "" {
					t.Errorf("answer is not a failure Status with a reason: %+v (decode error %v)", status, decodeErr)
				}
				if resp.StatusCode == 422 && (status.Details == nil || len(status.Details.Causes) == 0 || status.Details.Causes[0].Field == "") {
					t.Errorf("422 without field causes: %+v", status.Details)
				}
			})
		}
	}
	// None of it may have left an object behind.
	for _, r := range resources {
		if r.Namespaced && r.Name == "configmaps" {
			list, err := c.CoreV1().ConfigMaps("bad").List(context.Background(), metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, cm := range list.Items {
				if cm.Name == "bad-input" || cm.Name == "Not_A_Valid..Name" {
					t.Errorf("bad request left configmap %s behind", cm.Name)
				}
			}
		}
	}
}

// TestBadReadsAndUpdatesGetStatus4xx sends malformed reads, patches and
// deletes to every served resource.
func TestBadReadsAndUpdatesGetStatus4xx(t *testing.T) {
	s := framework.Start(t)
	c := s.Client(t)
	newNamespace(t, c, "bad")
	httpClient, err := rest.HTTPClientFor(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	type call struct {
		name, method, suffix, contentType, body string
		want                                    []int
	}
	calls := []call{
		{name: "get missing", method: http.MethodGet, suffix: "/does-not-exist", want: []int{404}},
		{name: "delete missing", method: http.MethodDelete, suffix: "/does-not-exist", want: []int{404}},
		{name: "malformed merge patch", method: http.MethodPatch, suffix: "/does-not-exist", contentType: "application/merge-patch+json", body: `{"metadata":`, want: []int{400, 404}},
		{name: "malformed json patch", method: http.MethodPatch, suffix: "/does-not-exist", contentType: "application/json-patch+json", body: `[{"op":"frobnicate"}]`, want: []int{400, 404, 422}},
		{name: "unsupported patch type", method: http.MethodPatch, suffix: "/does-not-exist", contentType: "application/x-nonsense", body: `{}`, want: []int{415}},
		{name: "bad label selector", method: http.MethodGet, suffix: "?labelSelector=a+in+(", want: []int{400}},
		{name: "unsupported field selector", method: http.MethodGet, suffix: "?fieldSelector=spec.noSuchField%3Dx", want: []int{400}},
		{name: "bad resourceVersionMatch", method: http.MethodGet, suffix: "?resourceVersionMatch=Exact", want: []int{422}},
		{name: "bad limit", method: http.MethodGet, suffix: "?limit=-5&resourceVersion=abc&resourceVersionMatch=NotOlderThan", want: []int{400, 422}},
	}
	for _, r := range servedResources(t, s.Config) {
		gv := schema.GroupVersion{Group: r.Group, Version: r.Version}
		url := s.Config.Host + path(gv)
		if r.Namespaced {
			url += "/namespaces/bad"
		}
		url += "/" + r.Name
		for _, cl := range calls {
			if cl.method != http.MethodPost && !hasVerb(r.Verbs, verbOf(cl.method, cl.suffix)) {
				continue
			}
			t.Run(gv.String()+"/"+r.Name+"/"+cl.name, func(t *testing.T) {
				var body *strings.Reader
				body = strings.NewReader(cl.body)
				req, err := http.NewRequestWithContext(context.Background(), cl.method, url+cl.suffix, body)
				if err != nil {
					t.Fatal(err)
				}
				if cl.contentType != "" {
					req.Header.Set("Content-Type", cl.contentType)
				}
				req.Header.Set("Accept", "application/json")
				resp, err := httpClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var status metav1.Status
				decodeErr := json.NewDecoder(resp.Body).Decode(&status)
				if resp.StatusCode >= 500 {
					t.Fatalf("status %d (server error): %+v", resp.StatusCode, status)
				}
				ok := false
				for _, code := range cl.want {
					ok = ok || resp.StatusCode == code
				}
				if !ok {
					t.Errorf("status %d, want one of %v: %+v", resp.StatusCode, cl.want, status)
				}
				if decodeErr != nil || status.Kind != "Status" || int(status.Code) != resp.StatusCode || status.Reason == "" {
					t.Errorf("answer is not a failure Status with a reason: %+v (decode error %v)", status, decodeErr)
				}
			})
		}
	}
}

// verbOf names the Kubernetes verb a request exercises.
func verbOf(method, suffix string) string {
	switch method {
	case http.MethodDelete:
		return "delete"
	case http.MethodPatch:
		return "patch"
	case http.MethodGet:
		if strings.HasPrefix(suffix, "?") {
			return "list"
		}
		return "get"
	}
	return "create"
}
