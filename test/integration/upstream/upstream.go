// Package upstream locates the documents kube-apiserver 1.37 publishes
// (discovery, OpenAPI, the conformance list) inside the k8s.io/kubernetes
// v1.37.1 module, fetched with `go mod download` into the module cache. It
// never adds that module to Capstan's build.
package upstream

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// Version is the k8s.io/kubernetes release whose published documents tests compare against.
const Version = "v1.37.1"

var (
	once sync.Once
	dir  string
	err  error
)

// Dir returns the root of the downloaded k8s.io/kubernetes module.
func Dir() (string, error) {
	once.Do(func() {
		tmp, e := os.MkdirTemp("", "capstan-upstream-")
		if e != nil {
			err = e
			return
		}
		defer os.RemoveAll(tmp)
		// Outside any module, so that nothing is added to Capstan's go.mod or go.sum.
		cmd := exec.Command("go", "mod", "download", "-json", "k8s.io/kubernetes@"+Version)
		cmd.Dir = tmp
		cmd.Env = append(os.Environ(), "GO111MODULE=on", "GOWORK=off", "GOFLAGS=-mod=mod")
		out, e := cmd.Output()
		if e != nil {
			err = fmt.Errorf("go mod download k8s.io/kubernetes@%s: %w", Version, e)
			return
		}
		var m struct{ Dir, Error string }
		if e := json.Unmarshal(out, &m); e != nil {
			err = e
			return
		}
		if m.Error != "" {
			err = fmt.Errorf("go mod download: %s", m.Error)
			return
		}
		dir = m.Dir
	})
	return dir, err
}

// Read returns a file of the module, by its path inside it (e.g. "api/discovery/api__v1.json").
func Read(path string) ([]byte, error) {
	d, err := Dir()
	if err != nil {
		return nil, err
	}
	return os.ReadFile(filepath.Join(d, filepath.FromSlash(path)))
}
