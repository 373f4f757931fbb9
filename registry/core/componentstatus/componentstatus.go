// Package componentstatus serves the deprecated core/v1 ComponentStatus
// list: the health of etcd, the scheduler and the controller manager,
// probed when asked, as kube-apiserver does.
package componentstatus

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/capstan-dev/capstan/registry/store"
)

// Probe is one component's health check: an HTTP(S) URL that answers "ok".
type Probe struct {
	Name string
	URL  string
}

// Probes lists what `kubectl get componentstatuses` shows: the scheduler,
// the controller manager, and one entry per etcd server.
func Probes(etcdServers []string) []Probe {
	p := []Probe{
		{Name: "scheduler", URL: "https://127.0.0.1:10259/healthz"},
		{Name: "controller-manager", URL: "https://127.0.0.1:10257/healthz"},
	}
	for i, s := range etcdServers {
		p = append(p, Probe{Name: fmt.Sprintf("etcd-%d", i), URL: strings.TrimSuffix(s, "/") + "/health"})
	}
	return p
}

// REST answers get and list by probing.
type REST struct {
	probes []Probe
	client *http.Client
}

var (
	_ rest.Getter               = &REST{}
	_ rest.Lister               = &REST{}
	_ rest.Scoper               = &REST{}
	_ rest.ShortNamesProvider   = &REST{}
	_ rest.SingularNameProvider = &REST{}
)

// New returns the storage for probes.
func New(probes []Probe) *REST {
	return &REST{probes: probes, client: &http.Client{
		Timeout: 5 * time.Second,
		// Components serve self-signed certificates on loopback; health carries no secrets.
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec
	}}
}

func (r *REST) New() runtime.Object     { return &corev1.ComponentStatus{} }
func (r *REST) NewList() runtime.Object { return &corev1.ComponentStatusList{} }
func (r *REST) Destroy()                {}
func (r *REST) NamespaceScoped() bool   { return false }
func (r *REST) ShortNames() []string    { return []string{"cs"} }
func (r *REST) GetSingularName() string { return "componentstatus" }

func (r *REST) Get(ctx context.Context, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	for _, p := range r.probes {
		if p.Name == name {
			cs := r.probe(ctx, p)
			return &cs, nil
		}
	}
	return nil, apierrors.NewNotFound(corev1.Resource("componentstatuses"), name)
}

func (r *REST) List(ctx context.Context, opts *metainternalversion.ListOptions) (runtime.Object, error) {
	out := &corev1.ComponentStatusList{}
	results := make(chan corev1.ComponentStatus, len(r.probes))
	for _, p := range r.probes {
		go func(p Probe) { results <- r.probe(ctx, p) }(p)
	}
	for range r.probes {
		cs := <-results
		if opts != nil && opts.LabelSelector != nil && !opts.LabelSelector.Empty() {
			continue // component statuses carry no labels
		}
		if opts != nil && opts.FieldSelector != nil && !opts.FieldSelector.Matches(fieldsOf(&cs)) {
			continue
		}
		out.Items = append(out.Items, cs)
	}
	sort.Slice(out.Items, func(i, j int) bool { return out.Items[i].Name < out.Items[j].Name })
	return out, nil
}

func (r *REST) probe(ctx context.Context, p Probe) corev1.ComponentStatus {
	cs := corev1.ComponentStatus{ObjectMeta: metav1.ObjectMeta{Name: p.Name}}
	cond := corev1.ComponentCondition{Type: corev1.ComponentHealthy, Status: corev1.ConditionFalse}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL, nil)
	var resp *http.Response
	if err == nil {
		resp, err = r.client.Do(req)
	}
	if err != nil {
		cond.Status = corev1.ConditionUnknown
		cond.Error = err.Error()
	} else {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		cond.Message = strings.TrimSpace(string(body))
		if resp.StatusCode == http.StatusOK {
			cond.Status = corev1.ConditionTrue
			if strings.HasSuffix(p.URL, "/health") {
				// etcd answers {"health":"true"}; upstream shows "ok" for a healthy member.
				cond.Message = "ok"
			}
		} else {
			cond.Error = fmt.Sprintf("%s returned %d", p.URL, resp.StatusCode)
		}
	}
	cs.Conditions = []corev1.ComponentCondition{cond}
	return cs
}

type fieldSet map[string]string

func (f fieldSet) Has(k string) bool   { _, ok := f[k]; return ok }
func (f fieldSet) Get(k string) string { return f[k] }

func fieldsOf(cs *corev1.ComponentStatus) fieldSet {
	return fieldSet{"metadata.name": cs.Name}
}

func (r *REST) ConvertToTable(_ context.Context, obj runtime.Object, _ runtime.Object) (*metav1.Table, error) {
	t := &metav1.Table{ColumnDefinitions: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Status", Type: "string", Description: "Status of the component conditions"},
		{Name: "Message", Type: "string", Description: "Message of the component conditions"},
		{Name: "Error", Type: "string", Description: "Error of the component conditions"},
	}}
	add := func(cs *corev1.ComponentStatus) {
		status, msg, errMsg := "Unknown", "", ""
		for _, c := range cs.Conditions {
			if c.Type == corev1.ComponentHealthy {
				if c.Status == corev1.ConditionTrue {
					status = "Healthy"
				} else {
					status = "Unhealthy"
				}
				msg, errMsg = c.Message, c.Error
			}
		}
		t.Rows = append(t.Rows, metav1.TableRow{Cells: []any{cs.Name, status, msg, errMsg}, Object: runtime.RawExtension{Object: cs}})
	}
	switch o := obj.(type) {
	case *corev1.ComponentStatus:
		add(o)
	case *corev1.ComponentStatusList:
		for i := range o.Items {
			add(&o.Items[i])
		}
	}
	return t, nil
}
