package images

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

// File is one entry of an image layer.
type File struct {
	// Path inside the image, without a leading slash ("bin/sh").
	Path string
	// Mode carries the permission bits and, for directories and symlinks,
	// fs.ModeDir or fs.ModeSymlink.
	Mode fs.FileMode
	// Data is the file content; Link the target of a symlink or hard link.
	Data []byte
	Link string
	// Source, when set, is a file on this machine whose content is copied.
	Source   string
	UID, GID int
}

// Image describes an image to write: its name and one layer of files.
type Image struct {
	// Name is the full reference, e.g. "registry.k8s.io/pause:3.10.2".
	Name       string
	Files      []File
	Entrypoint []string
	Cmd        []string
	Env        []string
	WorkingDir string
	User       string
	// ExposedPorts like "80/tcp".
	ExposedPorts []string
	// Layers are extra layer tarballs (uncompressed) placed below Files.
	Layers []string
}

type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Platform    *platform         `json:"platform,omitempty"`
}

type platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
}

// fixed time for reproducible layers.
var epoch = time.Unix(0, 0).UTC()

// WriteArchive writes img as an OCI image layout tarball at dst.
func WriteArchive(dst string, img Image) error {
	var blobs []blob
	var layerDescs []descriptor
	var diffIDs []string
	for _, l := range img.Layers {
		data, err := os.ReadFile(l)
		if err != nil {
			return fmt.Errorf("reading layer %s: %w", l, err)
		}
		b := newBlob(data)
		blobs = append(blobs, b)
		layerDescs = append(layerDescs, descriptor{MediaType: "application/vnd.oci.image.layer.v1.tar", Digest: b.digest, Size: int64(len(data))})
		diffIDs = append(diffIDs, b.digest)
	}
	if len(img.Files) > 0 {
		layer, err := Layer(img.Files)
		if err != nil {
			return fmt.Errorf("image %s: %w", img.Name, err)
		}
		b := newBlob(layer)
		blobs = append(blobs, b)
		layerDescs = append(layerDescs, descriptor{MediaType: "application/vnd.oci.image.layer.v1.tar", Digest: b.digest, Size: int64(len(layer))})
		diffIDs = append(diffIDs, b.digest)
	}
	cfg := map[string]any{
		"architecture": runtime.GOARCH,
		"os":           "linux",
		"created":      epoch.Format(time.RFC3339),
		"rootfs":       map[string]any{"type": "layers", "diff_ids": diffIDs},
	}
	c := map[string]any{}
	if img.Entrypoint != nil {
		c["Entrypoint"] = img.Entrypoint
	}
	if img.Cmd != nil {
		c["Cmd"] = img.Cmd
	}
	env := img.Env
	if env == nil {
		env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	}
	c["Env"] = env
	if img.WorkingDir != "" {
		c["WorkingDir"] = img.WorkingDir
	}
	if img.User != "" {
		c["User"] = img.User
	}
	if len(img.ExposedPorts) > 0 {
		ports := map[string]struct{}{}
		for _, p := range img.ExposedPorts {
			ports[p] = struct{}{}
		}
		c["ExposedPorts"] = ports
	}
	cfg["config"] = c
	cfgData, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	cfgBlob := newBlob(cfgData)
	blobs = append(blobs, cfgBlob)
	manifest, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        descriptor{MediaType: "application/vnd.oci.image.config.v1+json", Digest: cfgBlob.digest, Size: int64(len(cfgData))},
		"layers":        layerDescs,
	})
	if err != nil {
		return err
	}
	mBlob := newBlob(manifest)
	blobs = append(blobs, mBlob)
	tag := img.Name
	if i := strings.LastIndex(tag, ":"); i > strings.LastIndex(tag, "/") {
		tag = tag[i+1:]
	}
	index, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.index.v1+json",
		"manifests": []descriptor{{
			MediaType: "application/vnd.oci.image.manifest.v1+json",
			Digest:    mBlob.digest,
			Size:      int64(len(manifest)),
			Platform:  &platform{Architecture: runtime.GOARCH, OS: "linux"},
			Annotations: map[string]string{
				"io.containerd.image.name":          img.Name,
				"org.opencontainers.image.ref.name": tag,
			},
		}},
	})
	if err != nil {
		return err
	}

	tmp := dst + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	tw := tar.NewWriter(f)
	add := func(name string, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: epoch, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := add("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return err
	}
	if err := add("index.json", index); err != nil {
		return err
	}
	for _, b := range blobs {
		if err := add("blobs/sha256/"+strings.TrimPrefix(b.digest, "sha256:"), b.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

type blob struct {
	digest string
	data   []byte
}

func newBlob(data []byte) blob {
	sum := sha256.Sum256(data)
	return blob{digest: "sha256:" + hex.EncodeToString(sum[:]), data: data}
}

// Layer returns an uncompressed layer tarball holding files, with every
// parent directory created and entries in a stable order.
func Layer(files []File) ([]byte, error) {
	byPath := map[string]File{}
	for _, f := range files {
		p := strings.Trim(path.Clean("/"+f.Path), "/")
		if p == "" {
			continue
		}
		f.Path = p
		byPath[p] = f
		for d := path.Dir(p); d != "." && d != "/"; d = path.Dir(d) {
			if _, ok := byPath[d]; !ok {
				byPath[d] = File{Path: d, Mode: fs.ModeDir | 0o755}
			}
		}
	}
	paths := make([]string, 0, len(byPath))
	for p := range byPath {
		paths = append(paths, p)
	}
	// Hard links come after everything else so their targets exist.
	sort.Slice(paths, func(i, j int) bool {
		hi := byPath[paths[i]].Link != "" && byPath[paths[i]].Mode&fs.ModeSymlink == 0
		hj := byPath[paths[j]].Link != "" && byPath[paths[j]].Mode&fs.ModeSymlink == 0
		if hi != hj {
			return hj
		}
		return paths[i] < paths[j]
	})
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, p := range paths {
		f := byPath[p]
		h := &tar.Header{Name: p, Mode: int64(f.Mode.Perm()), ModTime: epoch, Uid: f.UID, Gid: f.GID, Format: tar.FormatPAX}
		if f.Mode&fs.ModeSticky != 0 {
			h.Mode |= 0o1000
		}
		if f.Mode&fs.ModeSetuid != 0 {
			h.Mode |= 0o4000
		}
		var data []byte
		switch {
		case f.Mode.IsDir():
			h.Typeflag = tar.TypeDir
			h.Name += "/"
		case f.Mode&fs.ModeSymlink != 0:
			h.Typeflag = tar.TypeSymlink
			h.Linkname = f.Link
		case f.Link != "":
			// A hard link shares its target's inode: carry the target's mode,
			// or extracting the link would chmod the target.
			h.Typeflag = tar.TypeLink
			h.Linkname = strings.TrimPrefix(f.Link, "/")
			if t, ok := byPath[h.Linkname]; ok {
				h.Mode = int64(t.Mode.Perm())
			}
		default:
			h.Typeflag = tar.TypeReg
			data = f.Data
			if f.Source != "" {
				var err error
				if data, err = os.ReadFile(f.Source); err != nil {
					return nil, err
				}
			}
			h.Size = int64(len(data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("layer entry %s: %w", p, err)
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// TreeFiles lists every file under root on this machine as layer entries
// rooted at prefix, keeping symlinks as symlinks.
func TreeFiles(root, prefix string) ([]File, error) {
	var files []File
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." {
			return err
		}
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		f := File{Path: path.Join(prefix, filepath.ToSlash(rel)), Mode: info.Mode()}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			if f.Link, err = os.Readlink(p); err != nil {
				return err
			}
		case info.Mode().IsRegular():
			f.Source = p
		case info.IsDir():
		default:
			return nil // devices, sockets: not part of an image
		}
		files = append(files, f)
		return nil
	})
	return files, err
}

// ArchiveImageName reads the image name an archive written by WriteArchive
// carries ("" when it has none).
func ArchiveImageName(archive string) (string, error) {
	f, err := os.Open(archive)
	if err != nil {
		return "", err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			return "", fmt.Errorf("%s: no index.json: %w", archive, err)
		}
		if h.Name != "index.json" {
			continue
		}
		var idx struct {
			Manifests []descriptor `json:"manifests"`
		}
		if err := json.NewDecoder(tr).Decode(&idx); err != nil {
			return "", fmt.Errorf("%s: %w", archive, err)
		}
		for _, m := range idx.Manifests {
			if n := m.Annotations["io.containerd.image.name"]; n != "" {
				return n, nil
			}
		}
		return "", nil
	}
}
