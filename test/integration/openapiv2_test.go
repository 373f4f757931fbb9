package integration

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/capstan-dev/capstan/test/integration/framework"
	"github.com/capstan-dev/capstan/test/integration/upstream"
)

type swaggerDoc struct {
	Paths       map[string]map[string]json.RawMessage `json:"paths"`
	Definitions map[string]json.RawMessage            `json:"definitions"`
}

// definitionPrefix is the OpenAPI name prefix of a group-version's own types.
func definitionPrefix(gv schema.GroupVersion) string {
	g := gv.Group
	if g == "" {
		g = "core"
	}
	return "io.k8s.api." + strings.Split(g, ".")[0] + "." + gv.Version + "."
}

// TestOpenAPIV2MatchesUpstream compares /openapi/v2 with upstream's
// api/openapi-spec/swagger.json for the group-versions in scope: their
// operations and the definitions of their types. (Upstream's document is
// generated with every API on, so only in-scope parts are compared.)
func TestOpenAPIV2MatchesUpstream(t *testing.T) {
	s := framework.Start(t)
	data, err := upstream.Read("api/openapi-spec/swagger.json")
	if err != nil {
		t.Fatal(err)
	}
	var want, got swaggerDoc
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	raw, err := s.Client(t).Discovery().RESTClient().Get().AbsPath("/openapi/v2").
		SetHeader("Accept", "application/json").Do(context.Background()).Raw()
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	for _, gv := range inScope {
		t.Run(gv.String(), func(t *testing.T) {
			prefix := path(gv) + "/"
			in := func(p string) bool { return strings.HasPrefix(p, prefix) || p == path(gv)+"/" }
			ops := func(d swaggerDoc) []string {
				var out []string
				for _, o := range operations(openAPIDoc{Paths: d.Paths}) {
					if in(strings.SplitN(o, " ", 2)[0]) {
						out = append(out, o)
					}
				}
				return out
			}
			if diff := cmp.Diff(ops(want), ops(got)); diff != "" {
				t.Errorf("operations differ (-want +got):\n%s", diff)
			}
			dp := definitionPrefix(gv)
			var names []string
			for n := range want.Definitions {
				if strings.HasPrefix(n, dp) {
					names = append(names, n)
				}
			}
			sort.Strings(names)
			if len(names) == 0 || len(ops(want)) == 0 {
				t.Fatalf("upstream document has no definitions under %s or operations under %s", dp, prefix)
			}
			for _, n := range names {
				g, ok := got.Definitions[n]
				if !ok {
					t.Errorf("definition %s missing", n)
					continue
				}
				var w, gg any
				_ = json.Unmarshal(want.Definitions[n], &w)
				_ = json.Unmarshal(g, &gg)
				if diff := cmp.Diff(withoutEnums(w), withoutEnums(gg)); diff != "" {
					t.Errorf("definition %s differs (-want +got):\n%s", n, diff)
				}
			}
		})
	}
}
