package images

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
)

// keyFormat changes whenever WriteArchive or Layer would write the same
// Image differently, so that keys recorded before no longer match.
const keyFormat = "capstan-image-archive-1"

// Key summarises everything WriteArchive reads to write img: its
// configuration, every file entry, and the size and modification time of
// each file and layer it copies from this machine (stat instead of reading
// them keeps a check of a large image quick). A caller that records the key
// beside an archive can skip rewriting it while the key is unchanged.
func Key(img Image) (string, error) {
	type source struct {
		Path  string
		Size  int64
		MTime int64
	}
	stat := func(p string) (source, error) {
		info, err := os.Stat(p)
		if err != nil {
			return source{}, fmt.Errorf("image %s: %w", img.Name, err)
		}
		return source{Path: p, Size: info.Size(), MTime: info.ModTime().UnixNano()}, nil
	}
	files := make([]any, 0, len(img.Files))
	for _, f := range img.Files {
		entry := struct {
			File
			Stat *source `json:",omitempty"`
		}{File: f}
		if f.Source != "" {
			s, err := stat(f.Source)
			if err != nil {
				return "", err
			}
			entry.Stat = &s
		}
		files = append(files, entry)
	}
	layers := make([]source, 0, len(img.Layers))
	for _, l := range img.Layers {
		s, err := stat(l)
		if err != nil {
			return "", err
		}
		layers = append(layers, s)
	}
	cfg := img
	cfg.Files, cfg.Layers = nil, nil
	h := sha256.New()
	if err := json.NewEncoder(h).Encode([]any{keyFormat, runtime.GOARCH, cfg, layers, files}); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
