// Package atomicwritertest reads a directory written by atomicwriter the
// way a container sees it, for the tests of the writer and of the volumes
// built on it.
package atomicwritertest

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Files returns what a container sees in dir: each regular file reachable
// through the visible (non-hidden) names, as "mode content".
func Files(t testing.TB, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "..") {
			continue
		}
		// Walk through the symlink: WalkDir does not follow a symlinked root.
		root, err := filepath.EvalSymlinks(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			info, err := os.Stat(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			got[filepath.Join(e.Name(), rel)] = info.Mode().Perm().String() + " " + string(data)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return got
}
