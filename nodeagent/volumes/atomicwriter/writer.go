package atomicwriter

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const (
	// DataDirName is the symlink to the current timestamped directory.
	DataDirName = "..data"
	// newDataDirName is the symlink renamed over DataDirName.
	newDataDirName = "..data_tmp"

	maxFileNameLength = 255
	maxPathLength     = 4096
)

// File is one file of a payload.
type File struct {
	Data []byte
	// Mode is the file's permission bits.
	Mode int32
	// FsUser, when set, owns the file and its user-visible symlink.
	FsUser *int64
}

// Writer publishes payloads into one directory.
type Writer struct {
	dir string
}

// New returns a Writer for dir, which must exist.
func New(dir string) (*Writer, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("atomic writer target: %w", err)
	}
	return &Writer{dir: dir}, nil
}

// Write makes the directory show exactly payload, keyed by relative path
// (nested directories allowed). When the content on disk already matches,
// nothing is written and Write reports false. setPerms, if not nil, runs
// after the new files are written and before they are published.
func (w *Writer) Write(payload map[string]File, setPerms func() error) (bool, error) {
	clean, err := validatePayload(payload)
	if err != nil {
		return false, err
	}

	dataDir := filepath.Join(w.dir, DataDirName)
	oldTS, err := os.Readlink(dataDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("reading data directory link: %w", err)
	}

	var stale map[string]bool
	write := true
	if oldTS != "" {
		oldPath := filepath.Join(w.dir, oldTS)
		if stale, err = pathsToRemove(clean, oldPath); err != nil {
			return false, fmt.Errorf("finding paths to remove: %w", err)
		}
		changed, err := payloadChanged(clean, oldPath)
		if err != nil {
			return false, fmt.Errorf("comparing payload with %s: %w", oldTS, err)
		}
		if !changed && len(stale) == 0 {
			write = false
			oldTS = ""
		}
	}

	if write {
		if err := w.publish(clean, setPerms); err != nil {
			return false, err
		}
	}
	if err := w.createUserVisibleFiles(clean); err != nil {
		return write, fmt.Errorf("creating user-visible symlinks: %w", err)
	}
	if err := w.removeUserVisiblePaths(stale); err != nil {
		return write, fmt.Errorf("removing old user-visible symlinks: %w", err)
	}
	if oldTS != "" {
		if err := os.RemoveAll(filepath.Join(w.dir, oldTS)); err != nil {
			return write, fmt.Errorf("removing old data directory %s: %w", oldTS, err)
		}
	}
	return write, nil
}

// publish writes the payload into a new timestamped directory and switches
// the data directory link to it.
func (w *Writer) publish(payload map[string]File, setPerms func() error) error {
	tsDir, err := os.MkdirTemp(w.dir, time.Now().UTC().Format("..2006_01_02_15_04_05."))
	if err != nil {
		return fmt.Errorf("creating data directory: %w", err)
	}
	done := false
	defer func() {
		if !done {
			_ = os.RemoveAll(tsDir)
		}
	}()
	if err := os.Chmod(tsDir, 0o755); err != nil {
		return fmt.Errorf("setting mode of data directory: %w", err)
	}
	if err := writePayload(payload, tsDir); err != nil {
		return err
	}
	if setPerms != nil {
		if err := setPerms(); err != nil {
			return fmt.Errorf("applying ownership: %w", err)
		}
	}

	// A crash between symlink and rename leaves the temporary link behind.
	tmpLink := filepath.Join(w.dir, newDataDirName)
	if err := os.Remove(tmpLink); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing stale %s: %w", newDataDirName, err)
	}
	if err := os.Symlink(filepath.Base(tsDir), tmpLink); err != nil {
		return fmt.Errorf("creating data directory link: %w", err)
	}
	if err := os.Rename(tmpLink, filepath.Join(w.dir, DataDirName)); err != nil {
		_ = os.Remove(tmpLink)
		return fmt.Errorf("switching data directory link: %w", err)
	}
	done = true
	return nil
}

func validatePayload(payload map[string]File) (map[string]File, error) {
	clean := make(map[string]File, len(payload))
	for p, f := range payload {
		if err := validatePath(p); err != nil {
			return nil, err
		}
		clean[filepath.Clean(p)] = f
	}
	return clean, nil
}

// validatePath rejects paths that could leave the directory or collide with
// the writer's own "..data" and "..<timestamp>" names.
func validatePath(p string) error {
	if p == "" {
		return fmt.Errorf("invalid path: must not be empty: %q", p)
	}
	if filepath.IsAbs(p) {
		return fmt.Errorf("invalid path: must be relative path: %s", p)
	}
	if len(p) > maxPathLength {
		return fmt.Errorf("invalid path: must be less than or equal to %d characters", maxPathLength)
	}
	parts := strings.Split(p, string(os.PathSeparator))
	for _, part := range parts {
		if part == ".." {
			return fmt.Errorf("invalid path: must not contain '..': %s", p)
		}
		if len(part) > maxFileNameLength {
			return fmt.Errorf("invalid path: filenames must be less than or equal to %d characters", maxFileNameLength)
		}
	}
	if strings.HasPrefix(parts[0], "..") && len(parts[0]) > 2 {
		return fmt.Errorf("invalid path: must not start with '..': %s", p)
	}
	return nil
}

// payloadChanged reports whether any file's content differs from oldDir's.
func payloadChanged(payload map[string]File, oldDir string) (bool, error) {
	for p, f := range payload {
		onDisk, err := os.ReadFile(filepath.Join(oldDir, p))
		if errors.Is(err, fs.ErrNotExist) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		if !bytes.Equal(onDisk, f.Data) {
			return true, nil
		}
	}
	return false, nil
}

// pathsToRemove returns the relative paths of oldDir that the payload no
// longer has, directories included.
func pathsToRemove(payload map[string]File, oldDir string) (map[string]bool, error) {
	keep := map[string]bool{}
	for p := range payload {
		for ; p != "." && p != string(os.PathSeparator); p = filepath.Dir(p) {
			keep[p] = true
		}
	}
	remove := map[string]bool{}
	err := filepath.WalkDir(oldDir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(oldDir, path)
		if err != nil {
			return err
		}
		if rel != "." && !keep[rel] {
			remove[rel] = true
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return remove, err
}

func writePayload(payload map[string]File, dir string) error {
	for p, f := range payload {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), os.ModePerm); err != nil {
			return fmt.Errorf("creating directory for %s: %w", p, err)
		}
		mode := os.FileMode(f.Mode)
		if err := os.WriteFile(full, f.Data, mode); err != nil {
			return fmt.Errorf("writing %s: %w", p, err)
		}
		// WriteFile's mode is subject to the umask.
		if err := os.Chmod(full, mode); err != nil {
			return fmt.Errorf("setting mode of %s: %w", p, err)
		}
		if f.FsUser != nil {
			if err := os.Lchown(full, int(*f.FsUser), -1); err != nil {
				return fmt.Errorf("setting owner of %s: %w", p, err)
			}
		}
	}
	return nil
}

// createUserVisibleFiles links each top-level name of the payload through
// the data directory, leaving names that already exist alone.
func (w *Writer) createUserVisibleFiles(payload map[string]File) error {
	for p, f := range payload {
		top, _, _ := strings.Cut(p, string(os.PathSeparator))
		visible := filepath.Join(w.dir, top)
		if _, err := os.Lstat(visible); err == nil {
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := os.Symlink(filepath.Join(DataDirName, top), visible); err != nil {
			return err
		}
		if f.FsUser != nil {
			if err := os.Lchown(visible, int(*f.FsUser), -1); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeUserVisiblePaths removes the top-level symlinks of paths; nested
// paths went away with the old data directory.
func (w *Writer) removeUserVisiblePaths(paths map[string]bool) error {
	var errs []error
	for p := range paths {
		if strings.Contains(p, string(os.PathSeparator)) {
			continue
		}
		if err := os.Remove(filepath.Join(w.dir, p)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
