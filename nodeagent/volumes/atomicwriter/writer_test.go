package atomicwriter

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/capstan-dev/capstan/nodeagent/volumes/atomicwriter/atomicwritertest"
)

func file(data string, mode int32) File { return File{Data: []byte(data), Mode: mode} }

func hiddenDirs(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "..") && e.Name() != DataDirName {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

func TestWrite(t *testing.T) {
	type step struct {
		payload     map[string]File
		wantWritten bool
		want        map[string]string
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "first write, then unchanged",
			steps: []step{
				{payload: map[string]File{"a": file("1", 0o644), "b": file("2", 0o400)}, wantWritten: true,
					want: map[string]string{"a": "-rw-r--r-- 1", "b": "-r-------- 2"}},
				{payload: map[string]File{"a": file("1", 0o644), "b": file("2", 0o400)}, wantWritten: false,
					want: map[string]string{"a": "-rw-r--r-- 1", "b": "-r-------- 2"}},
			},
		},
		{
			name: "update, add and remove keys",
			steps: []step{
				{payload: map[string]File{"a": file("1", 0o644), "b": file("2", 0o644)}, wantWritten: true,
					want: map[string]string{"a": "-rw-r--r-- 1", "b": "-rw-r--r-- 2"}},
				{payload: map[string]File{"a": file("one", 0o644), "c": file("3", 0o755)}, wantWritten: true,
					want: map[string]string{"a": "-rw-r--r-- one", "c": "-rwxr-xr-x 3"}},
			},
		},
		{
			name: "only a removal still rewrites",
			steps: []step{
				{payload: map[string]File{"a": file("1", 0o644), "b": file("2", 0o644)}, wantWritten: true,
					want: map[string]string{"a": "-rw-r--r-- 1", "b": "-rw-r--r-- 2"}},
				{payload: map[string]File{"a": file("1", 0o644)}, wantWritten: true,
					want: map[string]string{"a": "-rw-r--r-- 1"}},
			},
		},
		{
			name: "nested paths",
			steps: []step{
				{payload: map[string]File{"dir/x/y": file("y", 0o644), "dir/z": file("z", 0o644), "./top": file("t", 0o600)}, wantWritten: true,
					want: map[string]string{"dir/x/y": "-rw-r--r-- y", "dir/z": "-rw-r--r-- z", "top": "-rw------- t"}},
				{payload: map[string]File{"dir/z": file("z2", 0o644)}, wantWritten: true,
					want: map[string]string{"dir/z": "-rw-r--r-- z2"}},
				{payload: map[string]File{}, wantWritten: true, want: map[string]string{}},
			},
		},
		{
			name: "empty payload still publishes a data directory",
			steps: []step{
				{payload: nil, wantWritten: true, want: map[string]string{}},
				{payload: nil, wantWritten: false, want: map[string]string{}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			w, err := New(dir)
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range tt.steps {
				before := hiddenDirs(t, dir)
				perms := 0
				written, err := w.Write(s.payload, func() error { perms++; return nil })
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if written != s.wantWritten {
					t.Errorf("step %d: written = %v, want %v", i, written, s.wantWritten)
				}
				if wantPerms := map[bool]int{true: 1, false: 0}[s.wantWritten]; perms != wantPerms {
					t.Errorf("step %d: setPerms ran %d times, want %d", i, perms, wantPerms)
				}
				if diff := cmp.Diff(s.want, atomicwritertest.Files(t, dir)); diff != "" {
					t.Errorf("step %d: visible files (-want +got)\n%s", i, diff)
				}
				after := hiddenDirs(t, dir)
				if len(after) != 1 {
					t.Errorf("step %d: hidden directories %v, want exactly one", i, after)
				}
				if !s.wantWritten && !cmp.Equal(before, after) {
					t.Errorf("step %d: data directory changed from %v to %v without a write", i, before, after)
				}
				link, err := os.Readlink(filepath.Join(dir, DataDirName))
				if err != nil || link != after[0] {
					t.Errorf("step %d: %s -> %q (%v), want %q", i, DataDirName, link, err, after)
				}
			}
		})
	}
}

func TestWriteInvalidPaths(t *testing.T) {
	tests := []struct {
		path    string
		wantErr string
	}{
		{path: "", wantErr: "must not be empty"},
		{path: "/etc/passwd", wantErr: "must be relative path"},
		{path: "..", wantErr: "must not contain '..'"},
		{path: "../escape", wantErr: "must not contain '..'"},
		{path: "a/../../b", wantErr: "must not contain '..'"},
		{path: "..data", wantErr: "must not start with '..'"},
		{path: "..2020_01_01/x", wantErr: "must not start with '..'"},
		{path: strings.Repeat("a", 256), wantErr: "filenames must be less than or equal to 255 characters"},
		{path: strings.Repeat("a/", 2049), wantErr: "must be less than or equal to 4096 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			dir := t.TempDir()
			w, err := New(dir)
			if err != nil {
				t.Fatal(err)
			}
			_, err = w.Write(map[string]File{tt.path: file("x", 0o644)}, nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want containing %q", err, tt.wantErr)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("invalid payload left %d entries behind", len(entries))
			}
		})
	}
}

func TestWriteRecovers(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
	}{
		{
			name: "stale temporary link",
			setup: func(t *testing.T, dir string) {
				if err := os.Symlink("..gone", filepath.Join(dir, newDataDirName)); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "data link to a missing directory",
			setup: func(t *testing.T, dir string) {
				if err := os.Symlink("..gone", filepath.Join(dir, DataDirName)); err != nil {
					t.Fatal(err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.setup(t, dir)
			w, err := New(dir)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(map[string]File{"k": file("v", 0o644)}, nil); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(map[string]string{"k": "-rw-r--r-- v"}, atomicwritertest.Files(t, dir)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestWriteSetPermsFailure(t *testing.T) {
	dir := t.TempDir()
	w, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(map[string]File{"k": file("v", 0o644)}, func() error { return errors.New("boom") }); err == nil {
		t.Fatal("want error")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed write left %d entries behind", len(entries))
	}
}

func TestNewMissingDir(t *testing.T) {
	if _, err := New(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("error = %v, want not exist", err)
	}
}
