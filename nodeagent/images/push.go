package images

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

type pushManifest struct {
	Config descriptor   `json:"config"`
	Layers []descriptor `json:"layers"`
}

type pusher struct {
	base   string
	client *http.Client
}

// Push uploads the images of an archive written by WriteArchive to the
// registry at base (http://127.0.0.1:5000) under their names without the
// registry host: registry.k8s.io/e2e-test-images/agnhost:2.55 goes to
// e2e-test-images/agnhost:2.55, which is where containerd looks when that
// registry is configured as registry.k8s.io's mirror. Blobs the registry
// already has are not sent again. It returns the names pushed.
func Push(archive, base string) ([]string, error) {
	p := pusher{base: strings.TrimSuffix(base, "/"), client: &http.Client{Timeout: 5 * time.Minute}}
	return p.pushArchive(archive)
}

// ReadArchive returns the index.json of an OCI archive and its blobs by
// digest ("sha256:<hex>").
func ReadArchive(path string) ([]byte, map[string][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var index []byte
	blobs := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case h.Name == "index.json":
			index = data
		case strings.HasPrefix(h.Name, "blobs/sha256/"):
			blobs["sha256:"+strings.TrimPrefix(h.Name, "blobs/sha256/")] = data
		}
	}
	if index == nil {
		return nil, nil, fmt.Errorf("no index.json")
	}
	return index, blobs, nil
}

// splitName turns registry.k8s.io/a/b:tag into ("a/b", "tag").
func splitName(name string) (repo, tag string, err error) {
	repo, tag = name, "latest"
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo, tag = repo[:i], repo[i+1:]
	}
	if i := strings.Index(repo, "/"); i > 0 && strings.ContainsAny(repo[:i], ".:") {
		repo = repo[i+1:]
	}
	if repo == "" || strings.Contains(name, "@") {
		return "", "", fmt.Errorf("cannot push %q by tag", name)
	}
	return repo, tag, nil
}

func (p pusher) pushArchive(path string) ([]string, error) {
	indexData, blobs, err := ReadArchive(path)
	if err != nil {
		return nil, err
	}
	var index struct {
		Manifests []descriptor `json:"manifests"`
	}
	if err := json.Unmarshal(indexData, &index); err != nil {
		return nil, fmt.Errorf("index.json: %w", err)
	}
	var pushed []string
	for _, d := range index.Manifests {
		name := d.Annotations["io.containerd.image.name"]
		if name == "" {
			continue
		}
		repo, tag, err := splitName(name)
		if err != nil {
			return pushed, err
		}
		mData, ok := blobs[d.Digest]
		if !ok {
			return pushed, fmt.Errorf("%s: manifest %s missing", name, d.Digest)
		}
		var m pushManifest
		if err := json.Unmarshal(mData, &m); err != nil {
			return pushed, fmt.Errorf("%s: manifest: %w", name, err)
		}
		for _, b := range append([]descriptor{m.Config}, m.Layers...) {
			data, ok := blobs[b.Digest]
			if !ok {
				return pushed, fmt.Errorf("%s: blob %s missing", name, b.Digest)
			}
			if err := p.pushBlob(repo, b.Digest, data); err != nil {
				return pushed, fmt.Errorf("%s: %w", name, err)
			}
		}
		if err := p.putManifest(repo, tag, d.MediaType, mData); err != nil {
			return pushed, fmt.Errorf("%s: %w", name, err)
		}
		pushed = append(pushed, name)
	}
	return pushed, nil
}

func (p pusher) do(method, u, contentType string, body []byte) (*http.Response, error) {
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return p.client.Do(req)
}

func expect(resp *http.Response, what string, codes ...int) error {
	defer resp.Body.Close()
	for _, c := range codes {
		if resp.StatusCode == c {
			return nil
		}
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return fmt.Errorf("%s: %s: %s", what, resp.Status, strings.TrimSpace(string(msg)))
}

func (p pusher) pushBlob(repo, digest string, data []byte) error {
	resp, err := p.do(http.MethodHead, fmt.Sprintf("%s/v2/%s/blobs/%s", p.base, repo, digest), "", nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	resp, err = p.do(http.MethodPost, fmt.Sprintf("%s/v2/%s/blobs/uploads/", p.base, repo), "", nil)
	if err != nil {
		return err
	}
	loc := resp.Header.Get("Location")
	if err := expect(resp, "start upload", http.StatusAccepted); err != nil {
		return err
	}
	u, err := url.Parse(p.base)
	if err != nil {
		return err
	}
	lu, err := u.Parse(loc)
	if err != nil {
		return fmt.Errorf("upload location %q: %w", loc, err)
	}
	q := lu.Query()
	q.Set("digest", digest)
	lu.RawQuery = q.Encode()
	resp, err = p.do(http.MethodPut, lu.String(), "application/octet-stream", data)
	if err != nil {
		return err
	}
	return expect(resp, "upload "+digest, http.StatusCreated)
}

func (p pusher) putManifest(repo, tag, mediaType string, data []byte) error {
	resp, err := p.do(http.MethodPut, fmt.Sprintf("%s/v2/%s/manifests/%s", p.base, repo, tag), mediaType, data)
	if err != nil {
		return err
	}
	return expect(resp, "put manifest", http.StatusCreated)
}
